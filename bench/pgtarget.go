package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// Postern's store kinds the harness measures side by side (issue 18):
// -servers postern is the embedded SQLite store; postern-pg one node on
// PostgreSQL; postern-pg2 two nodes on one PostgreSQL database, each new
// connection going to the next node in turn, as behind a TCP load
// balancer. The PostgreSQL is a private cluster (pgtest) with the
// server's default durability (fsync and synchronous_commit on), so
// that both stores acknowledge only what is on disk.
var storeKinds = []string{"postern", "postern-pg", "postern-pg2"}

// startPosternPG starts nodes (1 or 2) on a new database of the bench's
// cluster, started at the first call.
func (b *bench) startPosternPG(ctx context.Context, bin, dir string, users []string, nodes int) (*target, error) {
	if b.pg == nil {
		c, err := pgtest.StartDurable()
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		b.pg = c
		b.logf("PostgreSQL cluster on 127.0.0.1:%d (fsync on)", c.Port())
	}
	url, err := b.pg.CreateDB(ctx)
	if err != nil {
		return nil, err
	}
	name := "Postern-PG"
	if nodes == 2 {
		name = "Postern-PG×2"
	}
	t, err := startPosternNode(ctx, bin, filepath.Join(dir, "node1"), users, name, url)
	if err != nil {
		return nil, err
	}
	if nodes == 2 {
		t2, err := startPosternNode(ctx, bin, filepath.Join(dir, "node2"), nil, name+" node 2", url)
		if err != nil {
			t.stop()
			return nil, err
		}
		t.alt, t.peers = t2.addr, []*target{t2}
		t.notes = append(t.notes, "two nodes on one database; new connections alternate between them")
	}
	return t, nil
}
