-- What a hold means for each agency of an operation, written with the hold
-- or the submission that brings it. agency_id NULL: to the coordinators.
CREATE TABLE notifications (
	id           INTEGER PRIMARY KEY,
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	agency_id    INTEGER REFERENCES agencies (id),
	kind         TEXT NOT NULL,
	message      TEXT NOT NULL,
	item_ids     TEXT NOT NULL DEFAULT '[]', -- JSON array
	hold_id      INTEGER REFERENCES holds (id),
	created_at   INTEGER NOT NULL,
	read_at      INTEGER
);
CREATE INDEX notifications_operation ON notifications (operation_id, agency_id, id);
