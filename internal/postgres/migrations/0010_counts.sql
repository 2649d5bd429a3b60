-- The operation's items counted by kind, platform, provider and submitting
-- agency, each by status, kept as they change: counting a million items
-- takes seconds, summing these rows a millisecond, so the dashboard's
-- figures are live at any size.
--
-- The counts are kept as deltas, appended and never updated, because many
-- processes change items at once: counters updated in place would make
-- every import, probe and referral wait on the same few rows and could
-- deadlock them. A reader sums an operation's deltas and, when they have
-- grown, folds them into one row per group (the store's compactCounts).
--
-- New items and submissions are counted by the store from what it knows
-- of the batch it writes (submitplan.Plan.Counts); changes of an item's
-- status, provider, kind or platform by the trigger below, once per
-- statement, wherever they come from.

CREATE TABLE item_count_deltas (
	operation_id bigint NOT NULL,
	dimension    text NOT NULL, -- kind, platform, provider, agency
	grp          text NOT NULL, -- the kind, platform, provider code ('' for none) or agency code
	status       text NOT NULL,
	n            bigint NOT NULL
);
CREATE INDEX item_count_deltas_operation ON item_count_deltas (operation_id);

INSERT INTO item_count_deltas (operation_id, dimension, grp, status, n)
	SELECT operation_id, 'kind', kind, status, count(*) FROM items GROUP BY operation_id, kind, status
	UNION ALL SELECT operation_id, 'platform', platform, status, count(*) FROM items GROUP BY operation_id, platform, status
	UNION ALL SELECT i.operation_id, 'provider', coalesce(p.code, ''), i.status, count(*) FROM items i LEFT JOIN providers p ON p.id = i.provider_id
		GROUP BY i.operation_id, coalesce(p.code, ''), i.status
	UNION ALL SELECT i.operation_id, 'agency', a.code, i.status, count(DISTINCT i.id) FROM items i JOIN submissions s ON s.item_id = i.id JOIN agencies a ON a.id = s.agency_id
		GROUP BY i.operation_id, a.code, i.status;

-- Items that changed move from their old groups to their new ones; their
-- agencies move only when their status does (they are who submitted them).
CREATE FUNCTION item_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	WITH changed AS (
		SELECT o.id, o.operation_id,
			o.kind AS old_kind, o.platform AS old_platform, o.status AS old_status, coalesce(op.code, '') AS old_provider,
			n.kind AS new_kind, n.platform AS new_platform, n.status AS new_status, coalesce(np.code, '') AS new_provider
		FROM old_items o JOIN new_items n ON n.id = o.id
			LEFT JOIN providers op ON op.id = o.provider_id LEFT JOIN providers np ON np.id = n.provider_id
		WHERE (o.status, o.kind, o.platform, o.provider_id) IS DISTINCT FROM (n.status, n.kind, n.platform, n.provider_id)
	), moved AS (
		-- Each changed item's agencies, looked up item by item (LATERAL):
		-- as a plain join the planner, knowing nothing of the transition
		-- tables, hashes every submission of the database on every
		-- statement.
		SELECT c.operation_id, c.old_status, c.new_status, s.agency_id
		FROM changed c CROSS JOIN LATERAL (SELECT DISTINCT agency_id FROM submissions WHERE item_id = c.id) s
		WHERE c.old_status <> c.new_status
	), moves AS (
		SELECT operation_id, 'kind' AS dimension, old_kind AS grp, old_status AS status, -1 AS n FROM changed
		UNION ALL SELECT operation_id, 'platform', old_platform, old_status, -1 FROM changed
		UNION ALL SELECT operation_id, 'provider', old_provider, old_status, -1 FROM changed
		UNION ALL SELECT operation_id, 'kind', new_kind, new_status, 1 FROM changed
		UNION ALL SELECT operation_id, 'platform', new_platform, new_status, 1 FROM changed
		UNION ALL SELECT operation_id, 'provider', new_provider, new_status, 1 FROM changed
		UNION ALL SELECT c.operation_id, 'agency', a.code, c.old_status, -1 FROM moved c JOIN agencies a ON a.id = c.agency_id
		UNION ALL SELECT c.operation_id, 'agency', a.code, c.new_status, 1 FROM moved c JOIN agencies a ON a.id = c.agency_id
	)
	INSERT INTO item_count_deltas (operation_id, dimension, grp, status, n)
		SELECT operation_id, dimension, grp, status, sum(n) FROM moves GROUP BY operation_id, dimension, grp, status HAVING sum(n) <> 0;
	RETURN NULL;
END
$$;

CREATE TRIGGER item_counts_update AFTER UPDATE ON items
	REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
	FOR EACH STATEMENT EXECUTE FUNCTION item_counts_update();

-- The report's time-to-removal and resurgence figures read only referred
-- and removed items: a few thousand of a million.
CREATE INDEX items_referred ON items (operation_id, id) WHERE referred_at IS NOT NULL;
CREATE INDEX items_removed ON items (operation_id, id) WHERE coalesce(removed_at, confirmed_at) IS NOT NULL;
-- The planner cannot tell how many rows an expression selects without
-- statistics of it; without them it guesses a quarter of the items and
-- scans them all instead of reading the index above.
CREATE STATISTICS items_removed_at ON (coalesce(removed_at, confirmed_at)) FROM items;
