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

// WithLogger sets the logger for the S3 client's warnings (default: none).
func WithLogger(l hclog.Logger) Option { return func(o *options) { o.logger = l } }
