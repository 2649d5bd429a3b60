-- The item list's text search (a substring of the handle, URL or title)
-- through a trigram index, as SQLite's FTS5 index does it: a scan of a
-- million items takes most of a second. pg_trgm ships with PostgreSQL
-- (contrib) and is a trusted extension; where it cannot be created, the
-- search scans as before, and says so in a notice.
DO $$
DECLARE
	trgm name;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
		BEGIN
			CREATE EXTENSION pg_trgm WITH SCHEMA public;
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE 'pg_trgm cannot be created (%): the item search scans', SQLERRM;
		END;
	END IF;
	SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
	IF trgm IS NOT NULL THEN
		-- The same expression as the query's (itemConditions): fields
		-- joined by a newline, which no search text holds.
		EXECUTE format('CREATE INDEX items_search ON items USING gin ((lower(handle || E''\n'' || url || E''\n'' || title)) %I.gin_trgm_ops)', trgm);
	END IF;
END
$$;
