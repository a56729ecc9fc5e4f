CREATE TABLE "netguard_devices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"platform" text NOT NULL,
	"owner_id" uuid,
	"group_id" text NOT NULL,
	"serial" text,
	"token_hash" text NOT NULL,
	"addresses" jsonb NOT NULL,
	"apps" jsonb NOT NULL,
	"os_version" text,
	"compliant" boolean,
	"violations" jsonb NOT NULL,
	"enrolled_at" timestamp with time zone NOT NULL,
	"last_report_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "netguard_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"cidrs" jsonb NOT NULL,
	"categories" jsonb NOT NULL,
	"lists" jsonb NOT NULL,
	"block_mode" text NOT NULL,
	"trusted" boolean DEFAULT false NOT NULL,
	"no_private_apps" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "netguard_lists" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"action" text NOT NULL,
	"format" text NOT NULL,
	"path" text,
	"content" text,
	"rules" integer NOT NULL,
	"problems" jsonb NOT NULL,
	"problem_count" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "netguard_queries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "netguard_queries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"client" text NOT NULL,
	"protocol" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"group_id" text NOT NULL,
	"action" text NOT NULL,
	"list" text,
	"rule" text,
	"rcode" text NOT NULL,
	"cached" boolean NOT NULL,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "netguard_devices" ADD CONSTRAINT "netguard_devices_owner_id_agents_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."agents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "netguard_devices_token_key" ON "netguard_devices" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "netguard_queries_at_idx" ON "netguard_queries" USING btree ("at");--> statement-breakpoint
CREATE INDEX "netguard_queries_client_idx" ON "netguard_queries" USING btree ("client","at");