package objstore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/hashicorp/go-hclog"
)

// Defaults for S3 uploads: memory held by one writer is about
// (DefaultConcurrency+2) × DefaultPartSize.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 2
	DefaultRegion      = "us-east-1"
)

// Option changes how Open and NewS3 set a store up.
type Option func(*options)

type options struct {
	partSize    int64
	concurrency int
	endpoint    string
	region      string
	logger      hclog.Logger
	sse         SSE
}

// SSE is the server-side encryption S3 applies to every object a store
// writes. The zero value asks for none (the bucket's default applies).
type SSE struct {
	// Mode is "" (none), SSES3 or SSEKMS.
	Mode string
	// KMSKeyID is the KMS key of SSEKMS (empty: the account's AWS managed
	// key for S3).
	KMSKeyID string
}

// Server-side encryption modes, as S3's x-amz-server-side-encryption
// header names them.
const (
	SSES3  = "AES256"
	SSEKMS = "aws:kms"
)

// Validate checks the mode and that a KMS key goes with SSEKMS only.
func (s SSE) Validate() error {
	switch {
	case s.Mode != "" && s.Mode != SSES3 && s.Mode != SSEKMS:
		return fmt.Errorf("%w: server-side encryption %q: %s or %s", ErrInvalidOption, s.Mode, SSES3, SSEKMS)
	case s.KMSKeyID != "" && s.Mode != SSEKMS:
		return fmt.Errorf("%w: a KMS key id needs server-side encryption %s", ErrInvalidOption, SSEKMS)
	}
	return nil
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		partSize:    DefaultPartSize,
		concurrency: DefaultConcurrency,
		logger:      hclog.NewNullLogger(),
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.partSize < manager.MinUploadPartSize {
		return nil, fmt.Errorf("%w: part size %d is below S3's minimum %d", ErrInvalidOption, o.partSize, manager.MinUploadPartSize)
	}
	if err := o.sse.Validate(); err != nil {
		return nil, err
	}
	if o.concurrency < 1 {
		return nil, fmt.Errorf("%w: concurrency %d is below 1", ErrInvalidOption, o.concurrency)
	}
	return o, nil
}

// WithPartSize sets the S3 multipart part size (at least 5 MiB; default
// 8 MiB).
func WithPartSize(n int64) Option { return func(o *options) { o.partSize = n } }

// WithConcurrency sets how many parts one S3 writer uploads at once
// (default 2).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithEndpoint sets the S3 endpoint URL, overriding AWS_ENDPOINT_URL_S3;
// path-style addressing is used with it.
func WithEndpoint(url string) Option { return func(o *options) { o.endpoint = url } }

// WithRegion sets the S3 region, overriding AWS_REGION and the AWS config.
func WithRegion(region string) Option { return func(o *options) { o.region = region } }

// WithSSE asks S3 to encrypt every object the store writes.
func WithSSE(s SSE) Option { return func(o *options) { o.sse = s } }

// WithLogger sets the logger for the S3 client's warnings (default: none).
func WithLogger(l hclog.Logger) Option { return func(o *options) { o.logger = l } }
