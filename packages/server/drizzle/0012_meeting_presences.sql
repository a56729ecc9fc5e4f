CREATE TABLE "meeting_presences" (
	"participant_id" uuid PRIMARY KEY NOT NULL,
	"meeting_id" uuid NOT NULL,
	"presence" jsonb NOT NULL,
	"saved_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "meeting_presences" ADD CONSTRAINT "meeting_presences_meeting_id_meetings_id_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meeting_presences_meeting_idx" ON "meeting_presences" USING btree ("meeting_id");