-- What a hold means for each agency of an operation, written with the hold
-- or the submission that brings it. agency_id NULL: to the coordinators.
CREATE TABLE notifications (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id bigint NOT NULL REFERENCES operations (id),
	agency_id    bigint REFERENCES agencies (id),
	kind         text NOT NULL,
	message      text NOT NULL,
	item_ids     text NOT NULL DEFAULT '[]', -- JSON array
	hold_id      bigint REFERENCES holds (id),
	created_at   timestamptz NOT NULL,
	read_at      timestamptz
);
CREATE INDEX notifications_operation ON notifications (operation_id, agency_id, id);
