package stream

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stratadb/strata/internal/damage"
)

// TestCorruptMessageIsAnError flips one bit of a stored message's data in
// the message store's files while it is closed: reading that message is
// an ErrStoreCorrupt error, never other data, and messages elsewhere read
// as before. A damaged LSM block takes the messages it shares the block
// with; a damaged entry in the last value log file is where Badger's
// recovery cuts that file, so the messages after it are gone too (and
// an error when read).
func TestCorruptMessageIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		intact []uint64
		gone   []uint64
	}{
		{"in the LSM tree", 256, []uint64{1, 200}, nil},
		{"in the value log", 2 * dbValueThreshold, []uint64{1, 99}, []uint64{101, 200}},
	} {
		size := tc.size
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := OpenDB(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := testConfig(t, FileStorage)
			f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
			l := newTestLog(t, f)
			rnd := rand.New(rand.NewPCG(1, 2))
			data := make([][]byte, 201)
			for seq := 1; seq <= 200; seq++ {
				data[seq] = make([]byte, size)
				for i := range data[seq] {
					data[seq][i] = byte(rnd.Uint32())
				}
				l.publish(t0, Publish{Subject: "ORDERS.new", Data: data[seq]})
			}
			if err := f.CloseStore(); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("flipped a bit of message 100 in %s", damage.FlipBitOf(t, dir, data[100][100:200]))

			db = openTestDB(t, dir)
			s := openStore(t, db, "ORDERS-1")
			m, err := s.Get(100)
			if err == nil {
				t.Fatalf("damaged message 100 read back (intact: %v)", bytes.Equal(m.Data, data[100]))
			}
			if !errors.Is(err, ErrStoreCorrupt) {
				t.Fatalf("damaged message 100: %v, want ErrStoreCorrupt", err)
			}
			t.Log(err)
			for _, seq := range tc.gone {
				if _, err := s.Get(seq); !errors.Is(err, ErrStoreCorrupt) {
					t.Fatalf("message %d, after the cut: %v, want ErrStoreCorrupt", seq, err)
				}
			}
			for _, seq := range tc.intact {
				if m, err := s.Get(seq); err != nil || !bytes.Equal(m.Data, data[seq]) {
					t.Fatalf("message %d: %v", seq, err)
				}
			}
		})
	}
}
