-- A product may belong to one category; lists can be filtered by it, and
-- the list pages the service caches are tagged with it.
ALTER TABLE products ADD COLUMN IF NOT EXISTS category_id bigint CHECK (category_id > 0);
CREATE INDEX IF NOT EXISTS products_category_newest ON products (category_id, created_at DESC, id DESC);
