package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/objstore"
)

type saveOptions struct {
	progressOptions
	keyOptions
	all      bool
	level    string
	sse      string
	sseKMSID string
}

func newSaveCmd(conn *connOptions) *cobra.Command {
	o := &saveOptions{}
	cmd := &cobra.Command{
		Use:   "save (STREAM | --all) TARGET",
		Short: "Back up a stream (or every stream) to s3://bucket/prefix or a directory",
		Long: `save takes a consistent point-in-time backup of a stream from its leader while
the stream keeps taking writes, compresses it with zstd and streams it to
TARGET (an S3 multipart upload, or a file in a directory) under
STREAM/<time>/; the manifest is written last and marks the backup complete.
Every durable consumer's config and state (delivered, ack floor, pending) is
saved with the messages, read before them, so a restore redelivers what was
unacknowledged when the backup began and skips nothing.`,
		Example: `  strata-backup save ORDERS s3://backups/strata
  strata-backup save --all /var/backups/strata`,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, conn, args) },
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "back up every stream, and write an index")
	cmd.Flags().BoolVar(&o.noProgress, "no-progress", false, "log lines instead of a progress bar")
	cmd.Flags().StringVar(&o.level, "level", "fastest", "zstd level: fastest, default, better or best")
	o.addKeyFlags(cmd.Flags(), "encrypts the backup on the client (verify and restore then need it)")
	cmd.Flags().StringVar(&o.sse, "sse", "", "S3 server-side encryption of every object: AES256 (SSE-S3) or aws:kms (SSE-KMS)")
	cmd.Flags().StringVar(&o.sseKMSID, "sse-kms-key-id", "", "the KMS key of --sse aws:kms (default: the AWS managed key)")
	return cmd
}

func (o *saveOptions) run(cmd *cobra.Command, conn *connOptions, args []string) error {
	if want := 2 - btoi(o.all); len(args) != want {
		return errors.New("usage: strata-backup save STREAM TARGET, or save --all TARGET")
	}
	ok, level := zstd.EncoderLevelFromString(o.level)
	if !ok {
		return fmt.Errorf("unknown --level %q: fastest, default, better or best", o.level)
	}
	key, err := o.key()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	store, err := objstore.Open(ctx, args[len(args)-1], objstore.WithSSE(objstore.SSE{Mode: o.sse, KMSKeyID: o.sseKMSID}))
	if err != nil {
		return err
	}
	c, err := conn.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := backup.SaveOptions{Level: level, Key: key}
	if o.all {
		return o.saveAll(ctx, cmd, c, store, opts)
	}
	opts.Stream = args[0]
	return o.saveOne(ctx, cmd, c, store, opts)
}

func (o *saveOptions) saveOne(ctx context.Context, cmd *cobra.Command, c *client.Client, store objstore.Store, opts backup.SaveOptions) error {
	p := o.newProgress(cmd.ErrOrStderr(), newLogger(cmd.ErrOrStderr(), "backup"), "saving")
	opts.Progress = p
	b, err := backup.Save(ctx, c, store, opts)
	if err != nil {
		return fmt.Errorf("save %s: %w", opts.Stream, err)
	}
	printSaved(cmd.OutOrStdout(), store, b, p)
	return nil
}

func (o *saveOptions) saveAll(ctx context.Context, cmd *cobra.Command, c *client.Client, store objstore.Store, opts backup.SaveOptions) error {
	progs := map[string]*progress{}
	idx, err := backup.SaveAll(ctx, c, store, opts, func(stream string) backup.Progress {
		progs[stream] = o.newProgress(cmd.ErrOrStderr(), newLogger(cmd.ErrOrStderr(), "backup"), "saving")
		return progs[stream]
	})
	all, lerr := backup.List(ctx, store)
	for _, b := range all {
		if idx.Backups[b.Manifest.Stream] == b.Dir {
			printSaved(cmd.OutOrStdout(), store, b, progs[b.Manifest.Stream])
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "index %s: %d streams saved, %d failed\n", "index-"+idx.ID+".json", len(idx.Backups), len(idx.Failed))
	return errors.Join(err, lerr)
}

// printSaved prints the final line of a save.
func printSaved(w io.Writer, store objstore.Store, b backup.Backup, p *progress) {
	m := b.Manifest
	d := m.Finished.Sub(m.Started)
	fmt.Fprintf(w, "saved %s to %s/%s: %d messages (seq %d-%d), %d consumers, %s uncompressed, %s compressed (%.2fx), %d chunks, %s (%.1f MiB/s)\n",
		m.Stream, store, b.Dir, m.Messages, m.FirstSeq, m.LastSeq, m.Consumers, mib(m.Bytes), mib(m.Compressed),
		float64(m.Bytes)/float64(max(m.Compressed, 1)), p.chunks, d.Round(1e6), float64(m.Bytes)/(1<<20)/max(d.Seconds(), 1e-3))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
