-- Verification: where each item stands (Verification, kept on its row,
-- its status in items.status once a provider received it), when it is
-- probed next, and every observation with its evidence. Columns without a
-- default or with a constant one are added without rewriting the table.

ALTER TABLE items ADD COLUMN referred_at timestamptz;    -- first receipt of a referral of it
ALTER TABLE items ADD COLUMN offline_since timestamptz;  -- first offline observation of the current run
ALTER TABLE items ADD COLUMN confirmed_at timestamptz;
ALTER TABLE items ADD COLUMN removed_at timestamptz;     -- first offline observation of the first confirmed removal
ALTER TABLE items ADD COLUMN reinstated_at timestamptz;
ALTER TABLE items ADD COLUMN last_probe_at timestamptz;
ALTER TABLE items ADD COLUMN last_verdict text NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN last_reason text NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN probes integer NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN next_probe_at timestamptz;  -- NULL: not scheduled (not referred)
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
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	item_id      bigint NOT NULL REFERENCES items (id),
	operation_id bigint NOT NULL REFERENCES operations (id),
	at           timestamptz NOT NULL,
	verdict      text NOT NULL,
	reason       text NOT NULL DEFAULT '',
	rule         text NOT NULL DEFAULT '',
	status       integer NOT NULL DEFAULT 0,  -- final HTTP status; 0 without an answer
	final_url    text NOT NULL DEFAULT '',
	bytes        bigint NOT NULL DEFAULT 0,
	latency_ms   bigint NOT NULL DEFAULT 0,
	error        text NOT NULL DEFAULT '',
	region       text NOT NULL DEFAULT ''
);
-- An item's observations, newest first.
CREATE INDEX observations_item ON observations (item_id, at, id);
