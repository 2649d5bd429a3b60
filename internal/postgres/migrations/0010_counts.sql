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
-- status, provider, kind or platform by the trigger below, wherever they
-- come from.

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

-- An item that changes moves from its old groups to its new ones; its
-- agencies move only when its status does (they are who submitted it).
-- A row trigger whose WHEN is false for the rows an import touches (their
-- counts and times change, not their groups) costs nothing there; a
-- statement trigger would join the UPDATE's old and new rows, of which
-- the planner knows nothing, and nested-loop thousands by thousands.
CREATE FUNCTION item_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO item_count_deltas (operation_id, dimension, grp, status, n)
		SELECT NEW.operation_id, d, g, s, sum(n) FROM (VALUES
			('kind', OLD.kind, OLD.status, -1),
			('platform', OLD.platform, OLD.status, -1),
			('provider', coalesce((SELECT code FROM providers WHERE id = OLD.provider_id), ''), OLD.status, -1),
			('kind', NEW.kind, NEW.status, 1),
			('platform', NEW.platform, NEW.status, 1),
			('provider', coalesce((SELECT code FROM providers WHERE id = NEW.provider_id), ''), NEW.status, 1)
		) AS v (d, g, s, n)
		GROUP BY d, g, s HAVING sum(n) <> 0;
	IF OLD.status IS DISTINCT FROM NEW.status THEN
		INSERT INTO item_count_deltas (operation_id, dimension, grp, status, n)
			SELECT NEW.operation_id, 'agency', a.code, x.status, x.n
			FROM (SELECT DISTINCT agency_id FROM submissions WHERE item_id = NEW.id) AS s
				JOIN agencies a ON a.id = s.agency_id
				CROSS JOIN (VALUES (OLD.status, -1), (NEW.status, 1)) AS x (status, n);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER item_counts_update AFTER UPDATE OF status, provider_id, kind, platform ON items
	FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.provider_id IS DISTINCT FROM NEW.provider_id
		OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.platform IS DISTINCT FROM NEW.platform)
	EXECUTE FUNCTION item_counts_update();

-- The report's time-to-removal and resurgence figures read only referred
-- and removed items: a few thousand of a million.
CREATE INDEX items_referred ON items (operation_id, id) WHERE referred_at IS NOT NULL;
CREATE INDEX items_removed ON items (operation_id, id) WHERE coalesce(removed_at, confirmed_at) IS NOT NULL;
-- The planner cannot tell how many rows an expression selects without
-- statistics of it; without them it guesses a quarter of the items and
-- scans them all instead of reading the index above.
CREATE STATISTICS items_removed_at ON (coalesce(removed_at, confirmed_at)) FROM items;
