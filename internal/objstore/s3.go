package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/hashicorp/go-hclog"
)

var (
	_ Store         = (*S3)(nil)
	_ UploadCleaner = (*S3)(nil)
	_ Checker       = (*S3)(nil)
)

// abortTimeout bounds the AbortMultipartUpload a failed writer sends after
// its own context ended.
const abortTimeout = 30 * time.Second

// S3 is a Store in an S3 bucket under a key prefix. Writers stream through
// the SDK's upload manager: parts of the configured size are uploaded a few
// at a time while the caller writes, and the object appears only when the
// multipart upload completes. A failed or aborted writer aborts its
// multipart upload.
type S3 struct {
	client   *s3.Client
	uploader *manager.Uploader
	bucket   string
	root     string // "" or the prefix ending in "/"
	logger   hclog.Logger
	sse      SSE
}

// NewS3 returns a store in bucket under prefix. Credentials, region and
// endpoint follow the AWS conventions (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3, the shared config
// files); the region defaults to us-east-1; with an endpoint URL (from the
// environment or WithEndpoint) addressing is path-style, as S3-compatible
// servers need.
func NewS3(ctx context.Context, bucket, prefix string, opts ...Option) (*S3, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return newS3(ctx, bucket, prefix, o)
}

func newS3(ctx context.Context, bucket, prefix string, o *options) (*S3, error) {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return nil, fmt.Errorf("%w: bad prefix %q", ErrInvalidURL, prefix)
		}
		prefix += "/"
	}
	var loads []func(*config.LoadOptions) error
	if o.region != "" {
		loads = append(loads, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("objstore: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.endpoint != "" {
			so.BaseEndpoint = aws.String(o.endpoint)
		}
		if so.BaseEndpoint != nil {
			so.UsePathStyle = true
		}
		so.Logger = hclogAdapter{o.logger}
		so.DisableLogOutputChecksumValidationSkipped = true
	})
	return newS3Client(client, bucket, prefix, o), nil
}

func newS3Client(client *s3.Client, bucket, root string, o *options) *S3 {
	uploader := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = o.partSize
		u.Concurrency = o.concurrency
		u.LeavePartsOnError = false
	})
	return &S3{client: client, uploader: uploader, bucket: bucket, root: root, logger: o.logger, sse: o.sse}
}

// putInput is the upload of key from body, with the store's
// server-side encryption.
func (s *S3) putInput(key string, body io.Reader) *s3.PutObjectInput {
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(key)), Body: body}
	if s.sse.Mode != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(s.sse.Mode)
	}
	if s.sse.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.sse.KMSKeyID)
	}
	return in
}

// String returns "s3://bucket/prefix".
func (s *S3) String() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.root, "/")
}

// Bucket returns the store's bucket.
func (s *S3) Bucket() string { return s.bucket }

// Prefix returns the store's key prefix ("" or ending in "/").
func (s *S3) Prefix() string { return s.root }

// Client returns the store's S3 client.
func (s *S3) Client() *s3.Client { return s.client }

func (s *S3) key(key string) string { return s.root + key }

// Create starts a streaming upload of key. Writes block while the parts
// ahead of them upload; memory stays near (concurrency+2) × part size.
func (s *S3) Create(ctx context.Context, key string) (Writer, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	w := &s3Writer{ctx: ctx, pw: pw, done: make(chan struct{}), key: key}
	go func() {
		defer close(w.done)
		_, err := s.uploader.Upload(ctx, s.putInput(key, pr))
		if err != nil {
			w.abortErr = s.abortFailed(ctx, key, err)
			err = fmt.Errorf("objstore: upload %s: %w", key, err)
		}
		// Unblock and fail the caller's writes once the upload has ended.
		pr.CloseWithError(orErr(err, ErrClosed))
		w.err = err
	}()
	return w, nil
}

// abortFailed aborts the multipart upload a failed Upload left, if any. The
// upload manager aborts it too, but with the caller's context, which may
// be what ended; this one outlives it. An upload already gone is fine.
func (s *S3) abortFailed(ctx context.Context, key string, err error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	var mf manager.MultiUploadFailure
	if !errors.As(err, &mf) || mf.UploadID() == "" {
		if ctx.Err() == nil {
			return nil // failed before any upload began
		}
		// Cut off during CreateMultipartUpload: S3 may have started the
		// upload, whose id never came back. The key is this writer's
		// alone (a backup's keys carry its time), so abort its uploads.
		return s.abortUploadsOf(actx, key)
	}
	_, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(s.key(key)),
		UploadId: aws.String(mf.UploadID()),
	})
	if aerr == nil || isCode(aerr, "NoSuchUpload") {
		return nil
	}
	s.logger.Warn("failed to abort multipart upload", "key", s.key(key), "upload_id", mf.UploadID(), "error", aerr)
	return fmt.Errorf("objstore: abort upload %s (id %s): %w", key, mf.UploadID(), aerr)
}

// abortUploadsOf aborts every multipart upload of key.
func (s *S3) abortUploadsOf(ctx context.Context, key string) error {
	ups, err := s.listUploads(ctx, key, time.Now().Add(time.Hour))
	if err != nil {
		return err
	}
	for _, u := range ups {
		if aws.ToString(u.Key) != s.key(key) {
			continue
		}
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId,
		})
		if err != nil && !isCode(err, "NoSuchUpload") {
			return fmt.Errorf("objstore: abort upload %s: %w", key, err)
		}
	}
	return nil
}

// Check asks S3 for the bucket (HeadBucket): it fails when the bucket is
// missing, the endpoint unreachable or the credentials refused.
func (s *S3) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		return fmt.Errorf("objstore: bucket %s: %w", s.bucket, err)
	}
	return nil
}

// Open streams key's object.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(key)),
	})
	if isNotFound(err) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("objstore: get %s: %w", key, err)
	}
	return out.Body, nil
}

// List lists the objects under prefix, sorted by key.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var objs []Object
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.key(prefix)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("objstore: list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.root)
			if !ok || checkKey(key) != nil {
				continue // a "directory" marker or a key this store cannot name
			}
			objs = append(objs, Object{Key: key, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	return objs, nil
}

// Delete deletes key's object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(key)),
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("objstore: delete %s: %w", key, err)
	}
	return nil
}

// AbortStaleUploads aborts the multipart uploads under prefix initiated
// before before: what a writer killed with its process leaves behind.
func (s *S3) AbortStaleUploads(ctx context.Context, prefix string, before time.Time) (int, error) {
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	stale, err := s.listUploads(ctx, prefix, before)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range stale {
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(s.bucket),
			Key:      u.Key,
			UploadId: u.UploadId,
		})
		if err != nil && !isCode(err, "NoSuchUpload") {
			return n, fmt.Errorf("objstore: abort upload %s: %w", aws.ToString(u.Key), err)
		}
		s.logger.Info("aborted stale multipart upload", "key", aws.ToString(u.Key),
			"upload_id", aws.ToString(u.UploadId), "initiated", aws.ToTime(u.Initiated))
		n++
	}
	return n, nil
}

func (s *S3) listUploads(ctx context.Context, prefix string, before time.Time) ([]types.MultipartUpload, error) {
	var stale []types.MultipartUpload
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.key(prefix)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("objstore: list uploads %s: %w", prefix, err)
		}
		for _, u := range page.Uploads {
			if aws.ToTime(u.Initiated).Before(before) {
				stale = append(stale, u)
			}
		}
	}
	return stale, nil
}

// s3Writer feeds an upload running in a goroutine through a pipe.
type s3Writer struct {
	ctx      context.Context
	key      string
	pw       *io.PipeWriter
	done     chan struct{} // closed when the upload has returned
	err      error         // the upload's error, set before done closes
	abortErr error         // a failed cleanup of the multipart upload

	mu     sync.Mutex
	closed bool
	failed error // the first failed Write: Close must not complete
}

func (w *s3Writer) Write(p []byte) (int, error) {
	// The upload notices a cancelled context only when a part fills up.
	err := w.ctx.Err()
	n := 0
	if err == nil {
		n, err = w.pw.Write(p)
	}
	if err == io.ErrClosedPipe {
		err = ErrClosed
	}
	if err != nil {
		w.fail(err)
	}
	return n, err
}

func (w *s3Writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed == nil {
		w.failed = err
	}
}

// Close ends the object and waits for the upload to complete. After a
// failed Write or with the context ended, it fails the upload instead:
// an object missing data never completes.
func (w *s3Writer) Close() error {
	if !w.finish() {
		return ErrClosed
	}
	w.mu.Lock()
	failed := w.failed
	w.mu.Unlock()
	if failed == nil {
		failed = w.ctx.Err()
	}
	if failed != nil {
		_ = w.pw.CloseWithError(failed)
		<-w.done
		if w.err != nil {
			return w.err
		}
		return fmt.Errorf("objstore: upload %s: %w", w.key, failed)
	}
	_ = w.pw.Close()
	<-w.done
	return w.err
}

// Abort fails the upload and waits for it and its multipart upload to be
// gone.
func (w *s3Writer) Abort() error {
	if !w.finish() {
		return nil
	}
	_ = w.pw.CloseWithError(ErrAborted)
	<-w.done
	return w.abortErr
}

// finish marks the writer closed; false if it already was.
func (w *s3Writer) finish() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.closed = true
	return true
}

func orErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || isCode(err, "NoSuchKey") || isCode(err, "NotFound")
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// hclogAdapter passes the SDK's log lines to hclog.
type hclogAdapter struct{ l hclog.Logger }

func (a hclogAdapter) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if c == logging.Debug {
		a.l.Debug(msg)
		return
	}
	a.l.Warn(msg)
}
