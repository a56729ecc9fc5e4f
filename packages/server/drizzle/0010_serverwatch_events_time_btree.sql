DROP INDEX "watch_events_at_idx";--> statement-breakpoint
DROP INDEX "watch_hits_at_idx";--> statement-breakpoint
CREATE INDEX "watch_events_at_id_idx" ON "watch_events" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "watch_hits_at_id_idx" ON "watch_hits" USING btree ("at","id");