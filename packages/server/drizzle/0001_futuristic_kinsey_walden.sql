CREATE TABLE "meeting_members" (
	"meeting_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"role" text NOT NULL,
	CONSTRAINT "meeting_members_meeting_id_agent_id_pk" PRIMARY KEY("meeting_id","agent_id")
);
--> statement-breakpoint
CREATE TABLE "meeting_units" (
	"meeting_id" uuid NOT NULL,
	"unit" text NOT NULL,
	CONSTRAINT "meeting_units_meeting_id_unit_pk" PRIMARY KEY("meeting_id","unit")
);
--> statement-breakpoint
CREATE TABLE "meetings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"link_id" text NOT NULL,
	"title" text NOT NULL,
	"classification" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"lobby" boolean NOT NULL,
	"guests" boolean NOT NULL,
	"locked" boolean DEFAULT false NOT NULL,
	"ended_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "meeting_members" ADD CONSTRAINT "meeting_members_meeting_id_meetings_id_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_members" ADD CONSTRAINT "meeting_members_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_units" ADD CONSTRAINT "meeting_units_meeting_id_meetings_id_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meetings" ADD CONSTRAINT "meetings_created_by_agents_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meeting_members_agent_idx" ON "meeting_members" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "meeting_units_unit_idx" ON "meeting_units" USING btree ("unit");--> statement-breakpoint
CREATE UNIQUE INDEX "meetings_link_key" ON "meetings" USING btree ("link_id");--> statement-breakpoint
CREATE INDEX "meetings_starts_idx" ON "meetings" USING btree ("starts_at");