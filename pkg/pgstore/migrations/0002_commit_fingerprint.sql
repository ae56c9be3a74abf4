-- 0002_commit_fingerprint: Commit.Fingerprint, the hash of the request
-- behind a caller-chosen command id (see pkg/signal: a command id sent
-- again with another request is refused). '' where there is none: the
-- commits of generated ids, and every commit written before this column.
-- A constant default makes this a catalog change in PostgreSQL 11 and
-- later: no table rewrite, whatever the table's size.
ALTER TABLE signal.events ADD COLUMN fingerprint text NOT NULL DEFAULT '';
