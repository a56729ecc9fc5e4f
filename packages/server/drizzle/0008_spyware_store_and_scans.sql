CREATE TABLE "spyware_devices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"platform" text NOT NULL,
	"serial" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "spyware_indicator_sets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"origin" text NOT NULL,
	"sha256" text NOT NULL,
	"content" text NOT NULL,
	"indicators" integer NOT NULL,
	"by_type" jsonb NOT NULL,
	"malware" jsonb NOT NULL,
	"skipped" integer NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	"imported_by" text
);
--> statement-breakpoint
CREATE TABLE "spyware_scans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"device_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"purpose" text NOT NULL,
	"status" text NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"consent" jsonb,
	"consent_form" "bytea",
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"progress" jsonb,
	"verdict" text,
	"malware" jsonb NOT NULL,
	"indicators" jsonb,
	"device_info" jsonb,
	"artifacts" jsonb NOT NULL,
	"detections" jsonb NOT NULL,
	"timeline_count" integer DEFAULT 0 NOT NULL,
	"raw_kept_until" timestamp with time zone,
	"raw_purged_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "spyware_timeline" (
	"scan_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"at" timestamp with time zone,
	"artifact" text NOT NULL,
	"file" text NOT NULL,
	"record" text NOT NULL,
	"detection" jsonb,
	CONSTRAINT "spyware_timeline_scan_id_seq_pk" PRIMARY KEY("scan_id","seq")
);
--> statement-breakpoint
ALTER TABLE "spyware_devices" ADD CONSTRAINT "spyware_devices_owner_id_agents_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spyware_scans" ADD CONSTRAINT "spyware_scans_device_id_spyware_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."spyware_devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "spyware_devices_owner_name_key" ON "spyware_devices" USING btree ("owner_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "spyware_indicator_sets_name_key" ON "spyware_indicator_sets" USING btree ("name");--> statement-breakpoint
CREATE INDEX "spyware_scans_device_idx" ON "spyware_scans" USING btree ("device_id","requested_at");