-- Search: a trigram index of each item's URL, handle and title, so that
-- the item list's substring search stays fast at a million items. It is
-- filled behind the imports by a job (an index kept by a trigger made an
-- import 38% slower): items up to search_state.indexed_through are in it,
-- the newer ones are searched by scanning them. An item whose title is
-- given after it was indexed is marked in search_dirty and indexed again.

CREATE VIRTUAL TABLE item_search USING fts5(body, tokenize = 'trigram', content = '', contentless_delete = 1);

CREATE TABLE search_state (
	id               INTEGER PRIMARY KEY CHECK (id = 1),
	indexed_through  INTEGER NOT NULL
);
INSERT INTO search_state (id, indexed_through) VALUES (1, 0);

CREATE TABLE search_dirty (item_id INTEGER PRIMARY KEY) WITHOUT ROWID;

CREATE TRIGGER items_title_given AFTER UPDATE OF title ON items
WHEN OLD.title = '' AND NEW.title <> '' AND NEW.id <= (SELECT indexed_through FROM search_state WHERE id = 1)
BEGIN
	INSERT INTO search_dirty (item_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
END;
