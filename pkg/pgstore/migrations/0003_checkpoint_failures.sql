-- A subscriber's recorded failure on the event after its checkpoint
-- (signal.Failure as JSON), or NULL. Moving the checkpoint clears it.
ALTER TABLE signal.checkpoints ADD COLUMN failure jsonb;

-- signal.Failures lists them: a partial index keeps that off the rows
-- without one.
CREATE INDEX checkpoints_failures ON signal.checkpoints (subscriber, stream_type, stream_id) WHERE failure IS NOT NULL;
