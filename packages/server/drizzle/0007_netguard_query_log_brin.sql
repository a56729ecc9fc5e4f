DROP INDEX "netguard_queries_at_idx";--> statement-breakpoint
CREATE INDEX "netguard_queries_at_idx" ON "netguard_queries" USING brin ("at");--> statement-breakpoint
ALTER TABLE "netguard_queries" DROP COLUMN "id";