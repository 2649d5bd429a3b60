-- Verification: where each item stands (Verification, kept on its row,
-- its status in items.status once a provider received it), when it is
-- probed next, and every observation with its evidence.

ALTER TABLE items ADD COLUMN referred_at INTEGER;    -- first receipt of a referral of it
ALTER TABLE items ADD COLUMN offline_since INTEGER;  -- first offline observation of the current run
ALTER TABLE items ADD COLUMN confirmed_at INTEGER;
ALTER TABLE items ADD COLUMN removed_at INTEGER;     -- first offline observation of the first confirmed removal
ALTER TABLE items ADD COLUMN reinstated_at INTEGER;
ALTER TABLE items ADD COLUMN last_probe_at INTEGER;
ALTER TABLE items ADD COLUMN last_verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN last_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN probes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN next_probe_at INTEGER;  -- NULL: not scheduled (not referred)
-- Due probes, earliest first: a range scan from the start of an index
-- that holds only the scheduled items.
CREATE INDEX items_next_probe ON items (next_probe_at, id) WHERE next_probe_at IS NOT NULL;

-- Items referred before this migration start their verification now: from
-- their first receipt (a channel's delivery or an acknowledgement, or the
-- creation of a referral to a provider reached only through the portal),
-- with a first probe due at once.
UPDATE items SET referred_at = r.at, next_probe_at = r.at, status = CASE WHEN items.status = 'submitted' THEN 'referred' ELSE items.status END
FROM (
	SELECT ri.item_id, min(coalesce(rf.received_at,
		CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.referral_id = rf.id AND d.channel = 'portal')
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.referral_id = rf.id AND d.channel <> 'portal')
		THEN rf.created_at END)) AS at
	FROM referral_items ri JOIN referrals rf ON rf.id = ri.referral_id
	GROUP BY ri.item_id
) AS r
WHERE items.id = r.item_id AND r.at IS NOT NULL;

CREATE TABLE observations (
	id           INTEGER PRIMARY KEY,
	item_id      INTEGER NOT NULL REFERENCES items (id),
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	at           INTEGER NOT NULL,
	verdict      TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	rule         TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0,  -- final HTTP status; 0 without an answer
	final_url    TEXT NOT NULL DEFAULT '',
	bytes        INTEGER NOT NULL DEFAULT 0,
	latency_ms   INTEGER NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT '',
	region       TEXT NOT NULL DEFAULT ''
);
-- An item's observations, newest first.
CREATE INDEX observations_item ON observations (item_id, at, id);
