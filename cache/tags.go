package cache

// Tags: sequence numbers, not key scans. See TagStore for the protocol and
// ARCHITECTURE.md for why.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

const (
	// MaxTags bounds the number of distinct tags of one entry: enough for
	// a page of a hundred rows tagged by row, with a few tags of its own.
	// A local hit checks an entry's tags only after the tag table changed.
	MaxTags = 128
	// MaxTagLength bounds the length of a tag, in bytes.
	MaxTagLength = 256
)

// normalizeTags checks the tags of one entry and returns them sorted without
// duplicates (nil for none).
func normalizeTags(tags []string) ([]string, error) {
	out, err := distinctTags(tags)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxTags {
		return nil, fmt.Errorf("%w: %d tags, at most %d", ErrInvalidTag, len(out), MaxTags)
	}
	return out, nil
}

// distinctTags checks the length of each tag and returns them sorted
// without duplicates (nil for none).
func distinctTags(tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	for _, t := range tags {
		if t == "" || len(t) > MaxTagLength {
			return nil, fmt.Errorf("%w: length %d not within 1..%d", ErrInvalidTag, len(t), MaxTagLength)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(tags))), nil
}

// invalidateChunk bounds the tags of one store call of InvalidateTags, and
// so the size of one script call and one notification.
const invalidateChunk = 1024

// tagTable is what a cache knows of the tags' sequence numbers: the numbers
// heard in invalidations and read from the store, at most max of them. A tag
// absent from the table has a number at most floor, once floor is known: the
// floor is the store's number read while subscribed (so later invalidations
// are heard) or the highest number evicted from the table. An entry loaded
// at s is valid iff each of its tags has a number <= s.
//
// gen moves after every change, so a local hit re-checks an entry only when
// something changed since its last check: otherwise the check is two atomic
// loads.
type tagTable struct {
	gen  atomic.Uint64 // starts at 1; entry.checked 0 means never checked
	seen atomic.Uint64 // highest number known: a safe s for a load starting now

	mu     sync.Mutex
	m      map[string]uint64
	floor  uint64
	known  bool   // floor is valid
	resets uint64 // counts resets, so a read sent before one is not applied after
	max    int
	local  uint64 // the sequence of a cache without a store
}

type verdict uint8

const (
	tagsValid verdict = iota
	tagsInvalid
	tagsUnknown // a tag the table cannot vouch for: ask the store
)

func (t *tagTable) init(max int, known bool) {
	t.gen.Store(1)
	t.m = make(map[string]uint64)
	t.max = max
	t.known = known
}

// check returns the verdict on tags for an entry loaded at s.
func (t *tagTable) check(tags []string, s uint64) verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checkLocked(tags, s)
}

func (t *tagTable) checkLocked(tags []string, s uint64) verdict {
	v := tagsValid
	for _, tag := range tags {
		if q, ok := t.m[tag]; ok {
			if q > s {
				return tagsInvalid
			}
			continue
		}
		if !t.known || s < t.floor {
			v = tagsUnknown
		}
	}
	return v
}

// apply records that the tags were invalidated at seq.
func (t *tagTable) apply(tags []string, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tag := range tags {
		t.setLocked(tag, seq)
	}
	t.raiseSeen(seq)
	t.gen.Add(1)
}

func (t *tagTable) setLocked(tag string, seq uint64) {
	if q, ok := t.m[tag]; ok {
		if seq > q {
			t.m[tag] = seq
		}
		return
	}
	if t.known && seq <= t.floor {
		return // the floor already says as much
	}
	for len(t.m) >= t.max {
		for k, q := range t.m {
			delete(t.m, k)
			t.floor = max(t.floor, q)
			break
		}
	}
	t.m[tag] = seq
}

func (t *tagTable) raiseSeen(seq uint64) {
	for {
		old := t.seen.Load()
		if seq <= old || t.seen.CompareAndSwap(old, seq) {
			return
		}
	}
}

// reset forgets everything but seen, after invalidations may have been
// missed.
func (t *tagTable) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.m)
	t.known, t.floor = false, 0
	t.resets++
	t.gen.Add(1)
}

// startRead returns the reset count to pass to applyRead.
func (t *tagTable) startRead() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.resets
}

// applyRead records numbers read from the store, unless the table was reset
// since the read started.
func (t *tagTable) applyRead(resets uint64, tags []string, seqs []uint64, current uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if resets != t.resets {
		return
	}
	t.floor = max(t.floor, current)
	t.known = true
	for i, tag := range tags {
		if seqs[i] > 0 {
			t.setLocked(tag, seqs[i])
		}
	}
	t.raiseSeen(current)
	t.gen.Add(1)
}

func (t *tagTable) isKnown() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.known
}

// tagsUsable reports whether the cache can honour tags.
func (c *Cache[K, V]) tagsUsable() bool { return c.store == nil || c.tagStore != nil }

// tagsOK reports whether a local entry's tags let it be served. The fast
// path is two atomic loads; a table change since the entry's last check
// costs one locked check.
func (c *Cache[K, V]) tagsOK(e *entry[V]) bool {
	g := c.tags.gen.Load()
	if e.checked.Load() == g {
		return true
	}
	if c.tags.check(e.tags, e.seq) != tagsValid {
		return false
	}
	e.checked.Store(g)
	return true
}

// loadSeq returns the sequence number a load starting now records. It reads
// the store's once after each reset, when the cache uses tags, so that the
// entries it loads are not all spuriously invalid.
func (c *Cache[K, V]) loadSeq(ctx context.Context) uint64 {
	if c.tagStore != nil && c.usesTags.Load() && !c.tags.isKnown() && c.storeUsable() {
		_, _, _ = c.readTags(ctx, nil)
	}
	return c.tags.seen.Load()
}

// readTags asks the store for the numbers of tags and the current one.
func (c *Cache[K, V]) readTags(ctx context.Context, tags []string) ([]uint64, uint64, error) {
	resets := c.tags.startRead()
	sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
	seqs, current, err := c.tagStore.TagSeqs(sctx, tags)
	cancel()
	if err == nil && len(seqs) != len(tags) {
		err = fmt.Errorf("cache: store returned %d sequence numbers for %d tags", len(seqs), len(tags))
	}
	if err != nil {
		c.storeFailed(ctx, OpFetch, err)
		return nil, 0, err
	}
	c.tags.applyRead(resets, tags, seqs, current)
	return seqs, current, nil
}

// storeEntryValid decides on an entry read from the store, asking the store
// for the numbers of its tags if the table cannot vouch for them.
func (c *Cache[K, V]) storeEntryValid(ctx context.Context, e *entry[V]) bool {
	if len(e.tags) == 0 {
		return true
	}
	if c.tagStore == nil {
		return false
	}
	switch c.tags.check(e.tags, e.seq) {
	case tagsValid:
		return true
	case tagsInvalid:
		return false
	}
	seqs, current, err := c.readTags(ctx, e.tags)
	if err != nil {
		return false
	}
	// The store's answer is exact, unlike the table's floor.
	for _, q := range seqs {
		if q > e.seq {
			return false
		}
	}
	// No tag of e was invalidated up to current, and any later
	// invalidation has a higher number: e is as good as an entry loaded
	// at current, which the table vouches for without asking again.
	e.seq = max(e.seq, current)
	return true
}

// InvalidateTags drops every entry carrying one of tags, in every cache
// sharing the store (tags are store-wide, whatever the Namespace) and in
// every process: at once in this process, as soon as the store's
// notification arrives in the others, and in the store for all. A load that
// started before the invalidation never installs its value: it recorded an
// older sequence number, which makes its entry invalid wherever it is read.
//
// It costs one store round trip per 1024 tags, whatever the number of
// entries. It returns an error wrapping ErrInvalidTag for a bad tag (then
// nothing is invalidated), ErrTagsUnsupported when the store lacks tags, or
// the store's error: an invalidation that did not happen must not pass
// silently.
func (c *Cache[K, V]) InvalidateTags(ctx context.Context, tags ...string) error {
	tags, err := distinctTags(tags)
	if err != nil || len(tags) == 0 {
		return err
	}
	if !c.tagsUsable() {
		return ErrTagsUnsupported
	}
	if c.store == nil {
		c.tags.mu.Lock()
		c.tags.local++
		seq := c.tags.local
		c.tags.mu.Unlock()
		c.tags.apply(tags, seq)
		return nil
	}
	for chunk := range slices.Chunk(tags, invalidateChunk) {
		sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
		seq, err := c.tagStore.InvalidateTags(sctx, chunk)
		cancel()
		if err != nil {
			c.storeFailed(ctx, OpDelete, err)
			return fmt.Errorf("cache: invalidate tags: %w", err)
		}
		c.tags.apply(chunk, seq)
	}
	return nil
}

// checkStoreEntries is storeEntryValid for a batch, with one store read for
// all the tags the table cannot vouch for. It sets the invalid entries to
// nil.
func (c *Cache[K, V]) checkStoreEntries(ctx context.Context, entries []*entry[V]) {
	var unknown []int
	var ask []string
	asked := map[string]bool{}
	for i, e := range entries {
		if e == nil || len(e.tags) == 0 {
			continue
		}
		if c.tagStore == nil {
			entries[i] = nil
			continue
		}
		switch c.tags.check(e.tags, e.seq) {
		case tagsInvalid:
			entries[i] = nil
		case tagsUnknown:
			unknown = append(unknown, i)
			for _, t := range e.tags {
				if !asked[t] {
					asked[t] = true
					ask = append(ask, t)
				}
			}
		}
	}
	if len(unknown) == 0 {
		return
	}
	seqs, current, err := c.readTags(ctx, ask)
	byTag := make(map[string]uint64, len(ask))
	if err == nil {
		for i, t := range ask {
			byTag[t] = seqs[i]
		}
	}
	for _, i := range unknown {
		e := entries[i]
		valid := err == nil
		for _, t := range e.tags {
			if byTag[t] > e.seq {
				valid = false
			}
		}
		if valid {
			e.seq = max(e.seq, current) // as in storeEntryValid
		} else {
			entries[i] = nil
		}
	}
}
