CREATE TABLE IF NOT EXISTS users (
	id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email         text NOT NULL UNIQUE,
	name          text NOT NULL,
	password_hash text NOT NULL,
	role          text NOT NULL DEFAULT 'customer',
	created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api_keys (
	id           text PRIMARY KEY,
	prefix       text NOT NULL,
	hash         bytea NOT NULL,
	name         text NOT NULL,
	owner        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes       text[] NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	expires_at   timestamptz,
	revoked_at   timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_owner ON api_keys (owner, created_at DESC);

CREATE TABLE IF NOT EXISTS products (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        text NOT NULL,
	description text NOT NULL DEFAULT '',
	price_cents bigint NOT NULL CHECK (price_cents >= 0),
	stock       integer NOT NULL CHECK (stock >= 0),
	units_sold  bigint NOT NULL DEFAULT 0,
	version     bigint NOT NULL DEFAULT 1,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS products_newest ON products (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS products_price ON products (price_cents, id);
CREATE INDEX IF NOT EXISTS products_name ON products (name, id);

-- Orders keep a copy of each product's name and price: a product may be
-- deleted or repriced later without rewriting history.
CREATE TABLE IF NOT EXISTS orders (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	status      text NOT NULL,
	total_cents bigint NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_user_newest ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS order_items (
	order_id         bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
	product_id       bigint NOT NULL,
	name             text NOT NULL,
	unit_price_cents bigint NOT NULL,
	quantity         integer NOT NULL CHECK (quantity > 0),
	PRIMARY KEY (order_id, product_id)
);
