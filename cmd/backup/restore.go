package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/objstore"
)

type restoreOptions struct {
	progressOptions
	keyOptions
	secret   []byte // the key, once read
	all      bool
	as       string
	replicas int
}

func newRestoreCmd(conn *connOptions) *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore SOURCE | restore --all TARGET",
		Short: "Restore a stream from a backup onto this cluster",
		Long: `restore recreates a backed-up stream with its config (placed by this cluster's
rules), every message with its original sequence and time, and its durable
consumers, which go on from where they were when the backup began. SOURCE is a
backup's folder or a stream's folder (its newest backup is taken). The backup
is verified end to end before anything is created; an existing stream is an
error and is left unchanged. With --all, the newest backup of every stream
under TARGET is restored (disaster recovery onto a new cluster).`,
		Example: `  strata-backup restore s3://backups/strata/ORDERS
  strata-backup restore s3://backups/strata/ORDERS --as ORDERS2 --replicas 1
  strata-backup restore --all s3://backups/strata`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, conn, args[0]) },
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "restore the newest backup of every stream under TARGET")
	cmd.Flags().StringVar(&o.as, "as", "", "restore under this stream name")
	cmd.Flags().IntVar(&o.replicas, "replicas", 0, "replicas of the restored stream (default: the backup's)")
	cmd.Flags().BoolVar(&o.noProgress, "no-progress", false, "log lines instead of a progress bar")
	o.addKeyFlags(cmd.Flags(), "decrypts an encrypted backup")
	return cmd
}

func (o *restoreOptions) run(cmd *cobra.Command, conn *connOptions, source string) error {
	if o.replicas < 0 {
		return errors.New("--replicas must be 1, 3 or 5")
	}
	if o.all && o.as != "" {
		return errors.New("--as names one stream: it does not go with --all")
	}
	var err error
	if o.secret, err = o.key(); err != nil {
		return err
	}
	ctx := cmd.Context()
	store, err := openStore(cmd, source)
	if err != nil {
		return err
	}
	backups, err := o.backups(cmd, store)
	if err != nil {
		return err
	}
	c, err := conn.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var errs []error
	for _, b := range backups {
		if err := o.restoreOne(cmd, c, store, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// backups returns the backup SOURCE names, or with --all the newest of
// every stream.
func (o *restoreOptions) backups(cmd *cobra.Command, store objstore.Store) ([]backup.Backup, error) {
	if !o.all {
		b, err := backup.Find(cmd.Context(), store)
		return []backup.Backup{b}, err
	}
	all, err := backup.Newest(cmd.Context(), store)
	if err == nil && len(all) == 0 {
		err = fmt.Errorf("%w in %s", backup.ErrNoBackup, store)
	}
	return all, err
}

func (o *restoreOptions) restoreOne(cmd *cobra.Command, c *client.Client, store objstore.Store, b backup.Backup) error {
	ctx := cmd.Context()
	p := o.newProgress(cmd.ErrOrStderr(), newLogger(cmd.ErrOrStderr(), "restore"), "restoring")
	start := time.Now()
	info, err := backup.Restore(ctx, c, store, b, backup.RestoreOptions{As: o.as, Replicas: o.replicas, Progress: p, Key: o.secret})
	if err != nil {
		return fmt.Errorf("restore %s: %w", b.Manifest.Stream, err)
	}
	d := time.Since(start)
	m := b.Manifest
	fmt.Fprintf(cmd.OutOrStdout(), "restored %s from %s/%s: %d messages (seq %d-%d), %d consumers, %s uncompressed, %s compressed, %d chunks, %s (%.1f MiB/s)\n",
		info.Config.Name, store, b.Dir, info.State.Msgs, info.State.FirstSeq, info.State.LastSeq, m.Consumers, mib(m.Bytes), mib(m.Compressed),
		p.chunks, d.Round(time.Millisecond), float64(m.Bytes)/(1<<20)/max(d.Seconds(), 1e-3))
	return nil
}

// openStore opens the directory or s3:// URL the command names.
func openStore(cmd *cobra.Command, url string) (objstore.Store, error) {
	return objstore.Open(cmd.Context(), url)
}

// openBackup opens the store at source and finds the backup it names.
func openBackup(cmd *cobra.Command, source string) (objstore.Store, backup.Backup, error) {
	store, err := openStore(cmd, source)
	if err != nil {
		return nil, backup.Backup{}, err
	}
	b, err := backup.Find(cmd.Context(), store)
	return store, b, err
}
