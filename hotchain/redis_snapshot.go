package hotchain

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/ledger"
)

// Snapshot implements Store: SCAN over the state keys with one MGET per
// step (as Scan), between two reads of the meta key that check the
// incarnation. Only the FSM applies, and it does not apply during Snapshot,
// so the meta cannot move during the scan; if it did anyway, Snapshot fails
// with ErrConflict rather than return a state that belongs to no index.
func (s *RedisStore) Snapshot(ctx context.Context) (*Snapshot, error) {
	before, err := s.Meta(ctx)
	if err != nil {
		return nil, snapshotErr(err)
	}
	var writes []ledger.Write
	err = s.scanState(ctx, func(k, v []byte) error { // k and v are fresh copies
		writes = append(writes, ledger.Write{Key: k, Value: v})
		return nil
	})
	if err != nil {
		return nil, snapshotErr(err)
	}
	if s.afterScan != nil {
		s.afterScan()
	}
	after, err := s.Meta(ctx)
	if err != nil {
		return nil, snapshotErr(err)
	}
	if after != before {
		return nil, snapshotErr(fmt.Errorf("%w: the meta moved during the scan (index %d to %d); did something apply during Snapshot?",
			ErrConflict, before.Index, after.Index))
	}
	before.Incarnation = ""
	sortWrites(writes)
	return &Snapshot{Meta: before, Writes: writes}, nil
}

// Restore implements Store in two steps, so that a crash at any point
// leaves either the old chain or no meta key (which Open treats as an empty
// store, deleting whatever else is left):
//
//  1. under a WATCH of the meta key: read it, check the genesis, DEL it;
//  2. under a WATCH of the meta key, seen missing: delete every dc:* key
//     (as Open does before a new incarnation), then write the snapshot's
//     state and the new meta in one MULTI/EXEC.
//
// Between the steps, and if Restore fails after the first, every other
// call on the store fails with ErrWiped; Restore (or Open) may be called
// again.
func (s *RedisStore) Restore(ctx context.Context, snap *Snapshot) (Meta, error) {
	if err := checkRestore(snap); err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	m, err := restoredMeta(snap)
	if err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	if err := s.dropMeta(ctx, snap); err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	if err := s.restoreState(ctx, genesisArgs(snap.Writes, m)); err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	s.setOpened(m)
	return m, nil
}

// dropMeta checks that the store may take snap (checkRestoreGenesis) and
// deletes its meta key, retrying if the key changed under the WATCH.
func (s *RedisStore) dropMeta(ctx context.Context, snap *Snapshot) error {
	opened, chain := s.openedChain()
	for range maxAttempts {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			stored, err := readMeta(ctx, tx)
			if err != nil {
				return err
			}
			if err := checkRestoreGenesis(snap, opened, chain, stored); err != nil || stored == nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, metaKey)
				return nil
			})
			return err
		}, metaKey)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return ErrConflict
}

// restoreState deletes every key of the schema and writes args (the state
// and the meta, see genesisArgs) in one MULTI/EXEC, under a WATCH of the
// meta key, which must be missing. If another handle creates a chain
// meanwhile, it fails with ErrConflict and that chain stays.
func (s *RedisStore) restoreState(ctx context.Context, args []any) error {
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, metaKey).Result()
		switch {
		case err != nil:
			return err
		case n > 0:
			return redis.TxFailedErr
		}
		if err := clearLeftovers(ctx, tx); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			queueSets(ctx, p, args)
			return nil
		})
		return err
	}, metaKey)
	if errors.Is(err, redis.TxFailedErr) {
		return fmt.Errorf("%w: another handle created a chain during the restore", ErrConflict)
	}
	return err
}
