ALTER TABLE orders ADD COLUMN IF NOT EXISTS payment_id text;
