package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup/crypt"
	"github.com/stratadb/strata/core/backup/record"
	"github.com/stratadb/strata/internal/objstore"
)

// SaveOptions configures Save.
type SaveOptions struct {
	// Stream is the stream to back up.
	Stream string
	// ID names the backup within the stream's folder; empty means the
	// start time (idLayout).
	ID string
	// Level is the zstd level; 0 means zstd.SpeedFastest.
	Level    zstd.EncoderLevel
	Progress Progress
	// Key, when set (32 bytes), encrypts the data object on the client
	// (crypt); the manifest records its KeyID.
	Key []byte
}

// Save writes a point-in-time backup of a stream into store: the data
// object streamed through zstd as the messages arrive (memory stays
// bounded whatever the stream's size), then the manifest. On error the
// data object is aborted and no manifest is written.
func Save(ctx context.Context, c *client.Client, store objstore.Store, opts SaveOptions) (b Backup, err error) {
	started := time.Now().UTC()
	if opts.ID == "" {
		opts.ID = started.Format(idLayout)
	}
	prog := progressOr(opts.Progress)
	defer func() { prog.Done(err) }()
	b.Dir = path.Join(opts.Stream, opts.ID)
	if cl, ok := store.(objstore.UploadCleaner); ok {
		// Uploads a killed save of this stream left behind.
		if _, err := cl.AbortStaleUploads(ctx, opts.Stream+"/", started); err != nil {
			return b, fmt.Errorf("abort stale uploads: %w", err)
		}
	}
	w, err := store.Create(ctx, path.Join(b.Dir, dataObject))
	if err != nil {
		return b, err
	}
	defer func() { _ = w.Abort() }() // a no-op after Close
	m, err := writeData(ctx, c, w, opts, prog)
	if err != nil {
		return b, err
	}
	m.Started, m.Finished = started, time.Now().UTC()
	if err := writeJSON(ctx, store, path.Join(b.Dir, manifestObject), m); err != nil {
		// Without its manifest the data is nobody's: remove it.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = store.Delete(dctx, path.Join(b.Dir, dataObject))
		return b, fmt.Errorf("write manifest: %w", err)
	}
	b.Manifest = m
	return b, nil
}

// writeData streams the stream's view into w and commits it.
func writeData(ctx context.Context, c *client.Client, w objstore.Writer, opts SaveOptions, prog Progress) (Manifest, error) {
	consumers, err := exportConsumers(ctx, c, opts.Stream)
	if err != nil {
		return Manifest{}, err
	}
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, sum)}
	level := opts.Level
	if level == 0 {
		level = zstd.SpeedFastest
	}
	s := &saver{prog: prog, consumers: consumers,
		m: Manifest{FormatVersion: FormatVersion, ToolVersion: ToolVersion, Stream: opts.Stream, Data: dataObject}}
	sealed, err := sealWriter(cw, opts.Key, &s.m)
	if err != nil {
		return Manifest{}, err
	}
	enc, err := zstd.NewWriter(sealed, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return Manifest{}, err
	}
	if s.rw, err = newRecordWriter(enc); err == nil {
		err = c.BackupRecords(ctx, opts.Stream, s.info, s.records)
	}
	if err == nil {
		err = s.finish()
	}
	if cerr := enc.Close(); err == nil {
		err = cerr
	}
	if cerr := sealed.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return Manifest{}, err
	}
	s.m.Bytes, s.m.Compressed, s.m.SHA256 = s.rw.bytes, cw.n, hex.EncodeToString(sum.Sum(nil))
	return s.m, nil
}

// sealWriter returns w itself when key is nil, else a writer that
// encrypts into w, and records the encryption in m.
func sealWriter(w io.Writer, key []byte, m *Manifest) (io.WriteCloser, error) {
	if key == nil {
		return nopCloser{w}, nil
	}
	sw, err := crypt.NewWriter(w, key)
	if err != nil {
		return nil, err
	}
	m.Encryption = &Encryption{Cipher: crypt.Cipher, KeyID: crypt.KeyID(key)}
	return sw, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// saver writes the records of one stream's backup.
type saver struct {
	rw        *recordWriter
	prog      Progress
	m         Manifest
	consumers []Consumer // exported before the view was read
	count     uint64
	next      uint64
}

func (s *saver) info(info *client.StreamInfo) error {
	s.m.Config = info.Config
	s.m.FirstSeq, s.m.LastSeq, s.m.Messages = info.State.FirstSeq, info.State.LastSeq, info.State.Msgs
	s.m.StreamBytes = info.State.Bytes
	s.next = info.State.FirstSeq
	s.prog.Start(s.m.Stream, int64(info.State.Bytes), info.State.Msgs)
	return s.rw.config(info.Config)
}

// records checks a chunk of message records (whole records, next
// sequences) and writes it as it is.
func (s *saver) records(chunk []byte) error {
	msgs := 0
	var bytes int64
	for rest := chunk; len(rest) > 0; {
		typ, p, next, err := record.Next(rest)
		if err != nil || typ != record.Message {
			return fmt.Errorf("backup %s: the server sent a bad record (type %d): %v", s.m.Stream, typ, err)
		}
		seq, err := record.MessageSeq(p)
		// Increasing from the view's first: a skipped sequence is a
		// message removed one by one (a hole).
		if err != nil || seq < s.next || s.count == 0 && seq != s.next {
			return fmt.Errorf("backup %s: the server sent sequence %d, expected %d", s.m.Stream, seq, s.next)
		}
		s.next = seq + 1
		s.count++
		msgs++
		bytes += int64(len(p))
		rest = next
	}
	if err := s.rw.raw(chunk); err != nil {
		return err
	}
	s.prog.Add(bytes, msgs)
	return nil
}

// finish checks that every message of the view arrived, writes the
// consumers and ends the data.
func (s *saver) finish() error {
	if s.count != s.m.Messages || s.m.Messages > 0 && s.next-1 > s.m.LastSeq {
		return fmt.Errorf("backup %s: received %d messages through %d, the stream held %d through %d",
			s.m.Stream, s.count, s.next-1, s.m.Messages, s.m.LastSeq)
	}
	for _, c := range s.consumers {
		c, err := c.clamped(s.m.LastSeq)
		if err == nil {
			err = s.rw.consumer(c)
		}
		if err != nil {
			return fmt.Errorf("backup %s: %w", s.m.Stream, err)
		}
		s.m.Consumers++
		s.m.ConsumerNames = append(s.m.ConsumerNames, c.Name())
	}
	return s.rw.end(s.count, s.m.LastSeq)
}

// msgSize is the message's size as the stream counts it.
func msgSize(m client.Msg) int64 {
	n := len(m.Subject) + len(m.Data) + len(m.MsgID) + 16
	for _, h := range m.Header {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Index is what a save of every stream writes at the prefix.
type Index struct {
	ID      string            `json:"id"`
	Started time.Time         `json:"started"`
	Backups map[string]string `json:"backups"` // stream -> backup dir
	Failed  map[string]string `json:"failed,omitempty"`
}

// SaveAll backs up every stream under one ID, then writes the index. A
// stream that fails does not stop the others; the error names each.
func SaveAll(ctx context.Context, c *client.Client, store objstore.Store, opts SaveOptions, progress func(stream string) Progress) (Index, error) {
	streams, err := c.Streams(ctx)
	if err != nil {
		return Index{}, err
	}
	started := time.Now().UTC()
	idx := Index{ID: started.Format(idLayout), Started: started, Backups: map[string]string{}}
	var errs []error
	for _, st := range streams {
		o := opts
		o.Stream, o.ID = st.Config.Name, idx.ID
		if progress != nil {
			o.Progress = progress(o.Stream)
		}
		b, err := Save(ctx, c, store, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", o.Stream, err))
			if idx.Failed == nil {
				idx.Failed = map[string]string{}
			}
			idx.Failed[o.Stream] = err.Error()
			continue
		}
		idx.Backups[o.Stream] = b.Dir
	}
	if err := writeJSON(ctx, store, "index-"+idx.ID+".json", idx); err != nil {
		errs = append(errs, fmt.Errorf("write index: %w", err))
	}
	return idx, errors.Join(errs...)
}
