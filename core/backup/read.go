package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"path"

	"github.com/klauspost/compress/zstd"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup/crypt"
	"github.com/stratadb/strata/internal/objstore"
)

// reader reads a backup's data object and checks it against the
// manifest as it goes: sequences, counts, the end record, and, once the
// data is read to its end, its size and SHA-256.
type reader struct {
	m     Manifest
	rc    io.ReadCloser
	body  *countReader
	sum   hash.Hash
	dec   *zstd.Decoder
	rr    *recordReader
	next  uint64
	count uint64
	// consumers are the consumer records read so far.
	consumers []Consumer
}

func openReader(ctx context.Context, store objstore.Store, b Backup, key []byte) (*reader, error) {
	if err := checkKey(b, key); err != nil {
		return nil, err
	}
	rc, err := store.Open(ctx, path.Join(b.Dir, b.Manifest.Data))
	if err != nil {
		return nil, err
	}
	r := &reader{m: b.Manifest, rc: rc, sum: sha256.New(), next: b.Manifest.FirstSeq}
	r.body = &countReader{r: io.TeeReader(rc, r.sum)}
	var plain io.Reader = r.body
	if b.Manifest.Encryption != nil {
		if plain, err = crypt.NewReader(r.body, key); err != nil {
			rc.Close()
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	if r.dec, err = zstd.NewReader(plain, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(1<<30)); err != nil {
		rc.Close()
		return nil, err
	}
	if r.rr, err = newRecordReader(r.dec); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// checkKey refuses an encrypted backup without its key, or with another
// key, before anything is read.
func checkKey(b Backup, key []byte) error {
	e := b.Manifest.Encryption
	switch {
	case e == nil: // a key given for it is not needed
		return nil
	case e.Cipher != crypt.Cipher:
		return fmt.Errorf("%w: %s: cipher %q", ErrVersion, b.Dir, e.Cipher)
	case key == nil:
		return fmt.Errorf("%w: %s was saved with key %s", ErrKeyRequired, b.Dir, e.KeyID)
	case crypt.KeyID(key) != e.KeyID:
		return fmt.Errorf("%w: %s was saved with key %s, this key is %s", ErrWrongKey, b.Dir, e.KeyID, crypt.KeyID(key))
	}
	return nil
}

func (r *reader) Close() error {
	r.dec.Close()
	return r.rc.Close()
}

// read calls config once, then msg for each message, and checks
// everything against the manifest.
func (r *reader) read(config func(client.StreamConfig) error, msg func(client.Msg) error) error {
	typ, p, err := r.rr.next()
	if err != nil {
		return err
	}
	if typ != recConfig {
		return fmt.Errorf("%w: first record is of type %d, not the config", ErrCorrupt, typ)
	}
	var c client.StreamConfig
	if err := json.Unmarshal(p, &c); err != nil {
		return fmt.Errorf("%w: config record: %w", ErrCorrupt, err)
	}
	if err := config(c); err != nil {
		return err
	}
	if err := r.records(msg); err != nil {
		return err
	}
	return r.checkEnd()
}

// records reads records through the end record.
func (r *reader) records(msg func(client.Msg) error) error {
	for {
		typ, p, err := r.rr.next()
		if err != nil {
			return err
		}
		switch typ {
		case recMessage:
			if err := r.message(p, msg); err != nil {
				return err
			}
		case recConsumer:
			c, err := decodeConsumer(p, r.m.LastSeq)
			if err != nil {
				return err
			}
			r.consumers = append(r.consumers, c)
		case recEnd:
			return r.end(p)
		default:
			return fmt.Errorf("%w: unknown record type %d", ErrCorrupt, typ)
		}
	}
}

func (r *reader) message(p []byte, msg func(client.Msg) error) error {
	m, err := decodeMessage(p)
	if err != nil {
		return err
	}
	// The first message is the stream's first; after it, a sequence may
	// be skipped (a message removed one by one before the backup).
	if m.Seq < r.next || r.count == 0 && m.Seq != r.next {
		return fmt.Errorf("%w: message sequence %d where %d was expected", ErrCorrupt, m.Seq, r.next)
	}
	r.next = m.Seq + 1
	r.count++
	return msg(m)
}

func (r *reader) end(p []byte) error {
	msgs, last, err := decodeEnd(p)
	switch {
	case err != nil:
		return err
	case msgs != r.count || msgs != r.m.Messages:
		return fmt.Errorf("%w: %d messages read, end record says %d, manifest %d", ErrCorrupt, r.count, msgs, r.m.Messages)
	case last != r.m.LastSeq || r.count > 0 && r.next-1 > last:
		return fmt.Errorf("%w: last sequence %d, end record says %d, manifest %d", ErrCorrupt, r.next-1, last, r.m.LastSeq)
	case len(r.consumers) != r.m.Consumers:
		return fmt.Errorf("%w: %d consumer records, manifest says %d", ErrCorrupt, len(r.consumers), r.m.Consumers)
	}
	return nil
}

// checkEnd reads the data object to its end and checks what follows the
// end record (nothing), its size and its checksum.
func (r *reader) checkEnd() error {
	if n, _ := io.Copy(io.Discard, r.dec); n > 0 {
		return fmt.Errorf("%w: %d bytes after the end record", ErrCorrupt, n)
	}
	if _, err := io.Copy(io.Discard, r.body); err != nil {
		return err
	}
	if r.rr.bytes != r.m.Bytes {
		return fmt.Errorf("%w: %d bytes uncompressed, manifest says %d", ErrCorrupt, r.rr.bytes, r.m.Bytes)
	}
	if r.body.n != r.m.Compressed {
		return fmt.Errorf("%w: data object has %d bytes, manifest says %d", ErrCorrupt, r.body.n, r.m.Compressed)
	}
	if sum := hex.EncodeToString(r.sum.Sum(nil)); sum != r.m.SHA256 {
		return fmt.Errorf("%w: data SHA-256 %s, manifest says %s", ErrCorrupt, sum, r.m.SHA256)
	}
	return nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Stats is what a verify or restore read.
type Stats struct {
	Messages   uint64
	Bytes      int64 // uncompressed
	Compressed int64
	// Consumers are the durable consumers the backup holds.
	Consumers []Consumer
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	Progress Progress
	// Key decrypts a backup saved with SaveOptions.Key.
	Key []byte
}

// Verify reads a backup end to end and checks it against its manifest:
// checksum, sizes, record framing, sequences and counts. It restores
// nothing.
func Verify(ctx context.Context, store objstore.Store, b Backup, opts VerifyOptions) (st Stats, err error) {
	prog := progressOr(opts.Progress)
	defer func() { prog.Done(err) }()
	r, err := openReader(ctx, store, b, opts.Key)
	if err != nil {
		return Stats{}, err
	}
	defer r.Close()
	prog.Start(b.Manifest.Stream, int64(b.Manifest.StreamBytes), b.Manifest.Messages)
	err = r.read(func(client.StreamConfig) error { return nil }, func(m client.Msg) error {
		prog.Add(msgSize(m), 1)
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("backup %s: %w", b.Dir, err)
	}
	return Stats{Messages: r.count, Bytes: r.rr.bytes, Compressed: r.body.n, Consumers: r.consumers}, nil
}
