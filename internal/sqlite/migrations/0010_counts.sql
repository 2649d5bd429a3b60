-- The operation's items counted by kind, platform, provider and submitting
-- agency, each by status, kept as they change: counting a million items
-- takes seconds, reading these rows a millisecond, so the dashboard's
-- figures are live at any size.
--
-- New items and submissions are counted by the store from what it knows
-- of the batch it writes (submitplan.Plan.Counts): a trigger per inserted
-- row, or a grouped recount of each batch, would cost a tenth to a fifth
-- of the import's time.
-- Changes of an item's status, provider, kind or platform are counted by
-- the trigger below, wherever they come from.

CREATE TABLE item_counts (
	operation_id INTEGER NOT NULL,
	dimension    TEXT NOT NULL, -- kind, platform, provider, agency
	grp          TEXT NOT NULL, -- the kind, platform, provider code ('' for none) or agency code
	status       TEXT NOT NULL,
	n            INTEGER NOT NULL,
	PRIMARY KEY (operation_id, dimension, grp, status)
) WITHOUT ROWID;

INSERT INTO item_counts (operation_id, dimension, grp, status, n)
	SELECT operation_id, 'kind', kind, status, count(*) FROM items GROUP BY operation_id, kind, status
	UNION ALL SELECT operation_id, 'platform', platform, status, count(*) FROM items GROUP BY operation_id, platform, status
	UNION ALL SELECT i.operation_id, 'provider', coalesce(p.code, ''), i.status, count(*) FROM items i LEFT JOIN providers p ON p.id = i.provider_id
		GROUP BY i.operation_id, coalesce(p.code, ''), i.status
	UNION ALL SELECT i.operation_id, 'agency', a.code, i.status, count(DISTINCT i.id) FROM items i JOIN submissions s ON s.item_id = i.id JOIN agencies a ON a.id = s.agency_id
		GROUP BY i.operation_id, a.code, i.status;

-- An item that changes moves from its old groups to its new ones; its
-- agencies move only when its status does (they are who submitted it).
CREATE TRIGGER item_counts_update AFTER UPDATE OF status, provider_id, kind, platform ON items
WHEN old.status IS NOT new.status OR old.provider_id IS NOT new.provider_id OR old.kind IS NOT new.kind OR old.platform IS NOT new.platform
BEGIN
	INSERT INTO item_counts (operation_id, dimension, grp, status, n)
		SELECT old.operation_id, 'kind', old.kind, old.status, -1
		UNION ALL SELECT old.operation_id, 'platform', old.platform, old.status, -1
		UNION ALL SELECT old.operation_id, 'provider', coalesce((SELECT code FROM providers WHERE id = old.provider_id), ''), old.status, -1
		UNION ALL SELECT new.operation_id, 'kind', new.kind, new.status, 1
		UNION ALL SELECT new.operation_id, 'platform', new.platform, new.status, 1
		UNION ALL SELECT new.operation_id, 'provider', coalesce((SELECT code FROM providers WHERE id = new.provider_id), ''), new.status, 1
		UNION ALL SELECT old.operation_id, 'agency', a.code, old.status, -1
			FROM agencies a WHERE old.status IS NOT new.status AND a.id IN (SELECT agency_id FROM submissions WHERE item_id = old.id)
		UNION ALL SELECT new.operation_id, 'agency', a.code, new.status, 1
			FROM agencies a WHERE old.status IS NOT new.status AND a.id IN (SELECT agency_id FROM submissions WHERE item_id = new.id)
	ON CONFLICT (operation_id, dimension, grp, status) DO UPDATE SET n = n + excluded.n;
END;

-- The report's time-to-removal and resurgence figures read only referred
-- and removed items: a few thousand of a million.
CREATE INDEX items_referred ON items (operation_id, id) WHERE referred_at IS NOT NULL;
CREATE INDEX items_removed ON items (operation_id, id) WHERE coalesce(removed_at, confirmed_at) IS NOT NULL;
