package redisidem

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/internal/redisclient"
)

// Config configures a [Store].
type Config struct {
	// Prefix is prepended to every key; "idem:" when empty.
	Prefix string
}

// ErrInvalidConfig is wrapped by the errors New returns for an unusable
// client or [Config].
var ErrInvalidConfig = errors.New("redisidem: invalid config")

// Store is an [idempotency.Store] on Redis. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var _ idempotency.Store = (*Store)(nil)

// New returns a store on client (a *redis.Client, *redis.ClusterClient or
// *redis.Ring). A go-redis client must set ContextTimeoutEnabled, as every
// Redis-backed package of Bedrock requires: without it a request's deadline
// cannot interrupt a slow Redis. New refuses it, and a nil client, with an
// error wrapping [ErrInvalidConfig].
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if err := redisclient.Check(client, ErrInvalidConfig); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "idem:"
	}
	return &Store{client: client, prefix: cfg.Prefix}, nil
}

// key wraps the middleware's key (already a fixed-length hash) in a hash tag.
func (s *Store) key(k string) string { return s.prefix + "{" + k + "}" }

// Lock the key if it is free; otherwise return its state, fingerprint and
// response. ARGV: fingerprint, token, lock TTL in ms.
var beginScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 's', 'f', 'r')
if not v[1] then
  redis.call('HSET', KEYS[1], 's', 'L', 'f', ARGV[1], 't', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'A'}
end
return {v[1], v[2], v[3] or ''}
`)

// Store the response if the token still holds the lock. ARGV: token,
// encoded response, retention in ms.
var completeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] or redis.call('HGET', KEYS[1], 's') ~= 'L' then
  return 0
end
redis.call('HSET', KEYS[1], 's', 'D', 'r', ARGV[2])
redis.call('HDEL', KEYS[1], 't')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Delete the key if the token still holds the lock. ARGV: token.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] or redis.call('HGET', KEYS[1], 's') ~= 'L' then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
`)

// Begin implements [idempotency.Store].
func (s *Store) Begin(ctx context.Context, key string, fp idempotency.Fingerprint, lockTTL time.Duration) (idempotency.Lookup, error) {
	token := rand.Text()
	res, err := beginScript.Run(ctx, s.client, []string{s.key(key)}, fp[:], token, millis(lockTTL)).Slice()
	if err != nil {
		return idempotency.Lookup{}, fmt.Errorf("redisidem: begin: %w", err)
	}
	if len(res) == 1 {
		return idempotency.Lookup{State: idempotency.Acquired, Fingerprint: fp, Token: token}, nil
	}
	if len(res) != 3 {
		return idempotency.Lookup{}, fmt.Errorf("%w: %d fields", idempotency.ErrCorruptRecord, len(res))
	}
	state, _ := res[0].(string)
	fpStr, _ := res[1].(string)
	var look idempotency.Lookup
	if len(fpStr) != len(look.Fingerprint) {
		return idempotency.Lookup{}, fmt.Errorf("%w: fingerprint of %d bytes", idempotency.ErrCorruptRecord, len(fpStr))
	}
	copy(look.Fingerprint[:], fpStr)
	switch state {
	case "L":
		look.State = idempotency.InProgress
	case "D":
		look.State = idempotency.Completed
		raw, _ := res[2].(string)
		look.Response = new(idempotency.Response)
		if err := look.Response.UnmarshalBinary([]byte(raw)); err != nil {
			return idempotency.Lookup{}, err
		}
	default:
		return idempotency.Lookup{}, fmt.Errorf("%w: state %q", idempotency.ErrCorruptRecord, state)
	}
	return look, nil
}

// Complete implements [idempotency.Store].
func (s *Store) Complete(ctx context.Context, key, token string, resp *idempotency.Response, retention time.Duration) error {
	raw, err := resp.MarshalBinary()
	if err != nil {
		return err
	}
	ok, err := completeScript.Run(ctx, s.client, []string{s.key(key)}, token, raw, millis(retention)).Int()
	if err != nil {
		return fmt.Errorf("redisidem: complete: %w", err)
	}
	if ok == 0 {
		return idempotency.ErrLockLost
	}
	return nil
}

// Release implements [idempotency.Store].
func (s *Store) Release(ctx context.Context, key, token string) error {
	ok, err := releaseScript.Run(ctx, s.client, []string{s.key(key)}, token).Int()
	if err != nil {
		return fmt.Errorf("redisidem: release: %w", err)
	}
	if ok == 0 {
		return idempotency.ErrLockLost
	}
	return nil
}

// millis rounds d up to whole milliseconds, at least 1, so a short TTL never
// becomes "no expiry".
func millis(d time.Duration) int64 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return max(int64(ms), 1)
}
