-- The process (outbox.worker_id) that holds a study's rows while a reconciliation or a
-- discard waits for a send in flight (outbox.quiesce). A process killed or interrupted
-- while it waits leaves its holds; the recovery sweep queues them again once that process
-- is gone. Rows held for the back office have none.
ALTER TABLE outbox ADD COLUMN held_by TEXT NOT NULL DEFAULT '';
