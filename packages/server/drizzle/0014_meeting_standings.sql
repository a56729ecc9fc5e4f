CREATE TABLE "meeting_standings" (
	"meeting_id" uuid NOT NULL,
	"person_key" text NOT NULL,
	"standing" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	CONSTRAINT "meeting_standings_meeting_id_person_key_pk" PRIMARY KEY("meeting_id","person_key")
);
--> statement-breakpoint
ALTER TABLE "meeting_standings" ADD CONSTRAINT "meeting_standings_meeting_id_meetings_id_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;