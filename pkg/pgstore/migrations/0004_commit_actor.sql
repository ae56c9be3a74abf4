-- 0004_commit_actor: Commit.Actor, who the command was handled for (the
-- principal's subject, "policy:<name>" for a policy's commands; see
-- pkg/signal). '' where there is none: commits handled without a
-- principal, and every commit written before this column. A constant
-- default makes this a catalog change in PostgreSQL 11 and later: no
-- table rewrite, whatever the table's size; and a build from before the
-- column, still running during a deployment, writes '' through it.
ALTER TABLE signal.events ADD COLUMN actor text NOT NULL DEFAULT '';
