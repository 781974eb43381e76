package pinfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// File is one pinned file to fetch.
type File struct {
	// Path is the file's slash-separated path below Options.Dir, and its name in messages.
	Path string
	// URL is where the file is downloaded from.
	URL string
	// SHA1 is the file's hash in lowercase hex, computed as Hash says.
	SHA1 string
	Hash Hash
	// Size is the file's size in bytes, or negative when unknown.
	Size int64
}

// SizeKnown reports whether the file's size is pinned.
func (f File) SizeKnown() bool { return f.Size >= 0 }

// Options configure Fetch. Only Dir is required.
type Options struct {
	// Dir is the data directory to fill; it is created if absent.
	Dir string
	// Source names where the files come from, in progress lines and in the error when nothing
	// answers (for example a mirror's base URL).
	Source string
	// UnreachableHint ends the error when nothing answers (for example how to use another mirror).
	UnreachableHint string
	// UserAgent is sent with every request; "" means Go's default.
	UserAgent string
	// Parallel bounds the number of files handled at once; 0 means 4.
	Parallel int
	// Retries is how many times a transient failure (network error, truncated body, stalled
	// body, HTTP 408, 429 or 5xx) is retried; 0 means 4, negative means never. Other failures
	// (404, 403, a body that does not hash to the pinned SHA-1) are not retried.
	Retries int
	// Backoff is the delay before the first retry; it doubles each retry up to MaxBackoff, and
	// each delay is drawn uniformly from [d/2, d] (jitter). 0 means 1s; MaxBackoff 0 means 30s.
	// A Retry-After header of a 429/503 answer lengthens the delay, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Seed seeds the jitter, so that a run's delays are reproducible.
	Seed uint64
	// StallTimeout fails an attempt (transiently) when no byte of a body arrives for that long;
	// 0 means 60s.
	StallTimeout time.Duration
	// Client makes the requests; nil means a client with a 60s response-header timeout.
	Client *http.Client
	// Progress, when not nil, receives a line per downloaded, retried or failed file and a final
	// summary line. Pass nil to be quiet.
	Progress io.Writer
}

// Summary is what Fetch did.
type Summary struct {
	// Files is the number of files asked for.
	Files int
	// Downloaded lists the paths downloaded and verified, in the order given; Replaced counts
	// those that replaced a corrupt file.
	Downloaded []string
	Replaced   int
	// Bytes is the total size of the downloaded files.
	Bytes int64
	// AlreadyValid counts files that were present and valid, and so were not requested.
	AlreadyValid int
	// Failed lists the files that could not be fetched, in the order given, with the reason.
	Failed []Failure
	// NotAttempted counts files left untouched because the context was cancelled or the source
	// was unreachable.
	NotAttempted int
}

// Failure is a file that Fetch could not fetch.
type Failure struct {
	Path string
	Err  error
}

// A CorruptDownloadError reports a downloaded body that does not hash to the pinned SHA-1 (or is
// longer than the pinned size). The body was discarded, never moved into place.
type CorruptDownloadError struct {
	Path, URL string
	Hash      Hash
	Want, Got string // Got is empty when the body was too long to hash
	Size      int64  // bytes received
	WantSize  int64  // the pinned size, or negative when unknown
}

// Error says which file, from where, and the expected and received hashes.
func (e *CorruptDownloadError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("corrupt download of %s from %s: body longer than the pinned %d bytes (%s %s); discarded", e.Path, e.URL, e.WantSize, e.Hash, e.Want)
	}
	return fmt.Sprintf("corrupt download of %s from %s: %s %s (%d bytes), pinned %s; discarded", e.Path, e.URL, e.Hash, e.Got, e.Size, e.Want)
}

// An HTTPStatusError is a non-200 answer.
type HTTPStatusError struct {
	URL    string
	Status string // e.g. "404 Not Found"
	Code   int
}

// Error gives the URL and the status line.
func (e *HTTPStatusError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Status) }

// transient marks a failure worth retrying.
type transient struct {
	err        error
	retryAfter time.Duration
	conn       bool // no HTTP response at all: the mirror may be unreachable
}

// errSkipped marks a file not attempted because the mirror was found unreachable.
var errSkipped = errors.New("not attempted: the mirror is unreachable")

func (t *transient) Error() string { return t.err.Error() }
func (t *transient) Unwrap() error { return t.err }

// Fetch makes every file of files valid in opts.Dir, opts.Parallel files at a time: files
// already present and valid are not requested; the others are downloaded from their URL. Each
// body is streamed to a temporary file in the destination folder while it is hashed; only when
// its hash (and size, when known) match is it synced and renamed into place. On any failure,
// including cancellation of ctx, the temporary file is removed.
//
// The error is nil when every file is valid at the end; otherwise it names each failed file
// (Summary.Failed has the same list), or wraps ctx.Err() when ctx was cancelled.
func Fetch(ctx context.Context, files []File, opts Options) (Summary, error) {
	sum := Summary{Files: len(files)}
	if opts.Dir == "" {
		return sum, errors.New("fetch: no data directory given")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return sum, fmt.Errorf("fetch: create data directory: %w", err)
	}
	f := newFetcher(opts, len(files))
	start := time.Now()

	type result struct {
		state    int // 0 not attempted, 1 already valid, 2 downloaded, 3 failed
		replaced bool
		size     int64
		err      error
	}
	results := make([]result, len(files))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(f.parallel, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				valid, replaced, size, err := f.fetchOne(ctx, files[i])
				switch {
				case errors.Is(err, errSkipped):
					// Left for a later run; the summary says why.
				case err != nil && ctx.Err() != nil:
					// Cancelled: the file was not fetched, and it did not fail on its own.
				case err != nil:
					results[i] = result{state: 3, err: err}
				case valid:
					results[i] = result{state: 1}
				default:
					results[i] = result{state: 2, replaced: replaced, size: size}
				}
			}
		}()
	}
feed:
	for i := range files {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()

	for i, r := range results {
		switch r.state {
		case 0:
			sum.NotAttempted++
		case 1:
			sum.AlreadyValid++
		case 2:
			sum.Downloaded = append(sum.Downloaded, files[i].Path)
			sum.Bytes += r.size
			if r.replaced {
				sum.Replaced++
			}
		case 3:
			sum.Failed = append(sum.Failed, Failure{files[i].Path, r.err})
		}
	}
	f.printf("fetch: %d downloaded (%s), %d already valid, %d failed, %d not attempted, in %s\n",
		len(sum.Downloaded), humanBytes(sum.Bytes), sum.AlreadyValid, len(sum.Failed), sum.NotAttempted, time.Since(start).Round(time.Millisecond))
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("fetch interrupted (%d of %d files not fetched; no partial file was kept): %w", sum.NotAttempted+len(sum.Failed), len(files), err)
	}
	if down := f.unreachable(); down != nil {
		return sum, fmt.Errorf("fetch: cannot reach %s (%v): %d file(s) failed, %d not attempted; check the network connection%s", opts.Source, down, len(sum.Failed), sum.NotAttempted, opts.UnreachableHint)
	}
	if len(sum.Failed) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "fetch: %d of %d files failed:", len(sum.Failed), len(files))
		for _, fl := range sum.Failed {
			fmt.Fprintf(&b, "\n  %s: %v", fl.Path, fl.Err)
		}
		return sum, errors.New(b.String())
	}
	return sum, nil
}

// fetcher holds the settings and shared state of one Fetch.
type fetcher struct {
	dir, agent        string
	client            *http.Client
	parallel, retries int
	backoff, maxDelay time.Duration
	stall             time.Duration
	total             int

	done     atomic.Int64
	anyOK    atomic.Bool // some request got an HTTP response
	mu       sync.Mutex  // guards rng, progress and down
	down     error       // set when the mirror looks unreachable: nothing answered and a file gave up
	rng      *rand.Rand
	progress io.Writer
}

func newFetcher(o Options, total int) *fetcher {
	f := &fetcher{
		dir: o.Dir, agent: o.UserAgent, client: o.Client, parallel: o.Parallel, retries: o.Retries,
		backoff: o.Backoff, maxDelay: o.MaxBackoff, stall: o.StallTimeout, total: total,
		rng:      rand.New(rand.NewPCG(o.Seed, 0x5eed)),
		progress: o.Progress,
	}
	if f.client == nil {
		f.client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ResponseHeaderTimeout: 60 * time.Second,
			TLSHandshakeTimeout:   30 * time.Second,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}}
	}
	if f.parallel <= 0 {
		f.parallel = 4
	}
	switch {
	case f.retries == 0:
		f.retries = 4
	case f.retries < 0:
		f.retries = 0
	}
	if f.backoff <= 0 {
		f.backoff = time.Second
	}
	if f.maxDelay <= 0 {
		f.maxDelay = 30 * time.Second
	}
	if f.stall <= 0 {
		f.stall = 60 * time.Second
	}
	return f
}

// unreachable returns the error that showed the mirror unreachable, or nil.
func (f *fetcher) unreachable() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *fetcher) printf(format string, args ...any) {
	if f.progress == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.progress, format, args...)
}

// delay returns the wait before retry number attempt (0-based).
func (f *fetcher) delay(attempt int, retryAfter time.Duration) time.Duration {
	d := f.backoff
	for range attempt {
		d *= 2
		if d >= f.maxDelay {
			d = f.maxDelay
			break
		}
	}
	f.mu.Lock()
	d = d/2 + time.Duration(f.rng.Int64N(int64(d/2)+1))
	f.mu.Unlock()
	if retryAfter > d {
		d = min(retryAfter, f.maxDelay)
	}
	return d
}

// fetchOne makes the file of e valid in the data directory: it reports valid=true when the file
// was already valid, else downloads it, retrying transient failures.
func (f *fetcher) fetchOne(ctx context.Context, e File) (valid, replaced bool, size int64, err error) {
	dst := filepath.Join(f.dir, filepath.FromSlash(e.Path))
	got, _, herr := e.Hash.File(dst)
	if herr == nil && got == e.SHA1 {
		f.done.Add(1)
		return true, false, 0, nil
	}
	replaced = herr == nil || !errors.Is(herr, fs.ErrNotExist)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, false, 0, fmt.Errorf("create folder: %w", err)
	}
	url := e.URL
	for attempt := 0; ; attempt++ {
		if f.unreachable() != nil {
			return false, false, 0, errSkipped
		}
		size, err = f.download(ctx, e, url, dst)
		if err == nil {
			n := f.done.Add(1)
			f.printf("[%*d/%d] downloaded %s (%s)\n", len(strconv.Itoa(f.total)), n, f.total, e.Path, humanBytes(size))
			return false, replaced, size, nil
		}
		if ctx.Err() != nil {
			return false, false, 0, ctx.Err()
		}
		var t *transient
		if !errors.As(err, &t) {
			break
		}
		if attempt >= f.retries {
			if t.conn && !f.anyOK.Load() {
				// No request has ever been answered and this file used up its retries: stop
				// the whole fetch rather than retrying every file against a dead network.
				f.mu.Lock()
				if f.down == nil {
					f.down = err
				}
				f.mu.Unlock()
			}
			err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
			break
		}
		d := f.delay(attempt, t.retryAfter)
		f.printf("retry %s in %s (attempt %d of %d): %v\n", e.Path, d.Round(time.Millisecond), attempt+2, f.retries+1, err)
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, false, 0, ctx.Err()
		case <-timer.C:
		}
	}
	n := f.done.Add(1)
	f.printf("[%*d/%d] FAILED %s: %v\n", len(strconv.Itoa(f.total)), n, f.total, e.Path, err)
	return false, false, 0, err
}

// download makes one attempt: GET url into a temporary file beside dst, verify, rename.
func (f *fetcher) download(ctx context.Context, e File, url, dst string) (size int64, err error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("request %s: %w", url, err)
	}
	if f.agent != "" {
		req.Header.Set("User-Agent", f.agent)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, &transient{err: err, conn: true}
	}
	f.anyOK.Store(true)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		serr := &HTTPStatusError{URL: url, Status: resp.Status, Code: resp.StatusCode}
		switch c := resp.StatusCode; {
		case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
			return 0, &transient{err: serr, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
		}
		return 0, serr
	}

	// The size to hash against: the pinned one, else the Content-Length (when the transport
	// did not decompress the body), else unknown until the body ends.
	declared, sizeVerified := e.Size, e.SizeKnown()
	if !e.SizeKnown() && resp.ContentLength >= 0 && !resp.Uncompressed {
		declared, sizeVerified = resp.ContentLength, true
	}

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".fetch-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("create temporary file: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	// A watchdog cancels the attempt when the body stalls.
	var stalled atomic.Bool
	watchdog := time.AfterFunc(f.stall, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	body := &bodyReader{r: resp.Body, onRead: func() { watchdog.Reset(f.stall) }}

	var got string
	var n int64
	if sizeVerified {
		h := e.Hash.newHasher(declared)
		n, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, declared+1))
		if err == nil && n > declared {
			return n, &CorruptDownloadError{Path: e.Path, URL: url, Hash: e.Hash, Want: e.SHA1, Size: n, WantSize: declared}
		}
		if err == nil && n < declared {
			err = fmt.Errorf("body ended after %d of %d bytes: %w", n, declared, io.ErrUnexpectedEOF)
			body.err = err
		}
		if err == nil {
			got, _ = h.sum()
		}
	} else {
		n, err = io.Copy(tmp, body)
		if err == nil {
			if _, err = tmp.Seek(0, io.SeekStart); err == nil {
				got, _, err = e.Hash.Sized(tmp, n)
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if stalled.Load() {
			return n, &transient{err: fmt.Errorf("GET %s: no data for %s after %d bytes", url, f.stall, n)}
		}
		if body.err != nil { // the network, not the disk
			return n, &transient{err: fmt.Errorf("GET %s: %w", url, body.err)}
		}
		return n, fmt.Errorf("write temporary file: %w", err)
	}
	if got != e.SHA1 {
		cerr := &CorruptDownloadError{Path: e.Path, URL: url, Hash: e.Hash, Want: e.SHA1, Got: got, Size: n, WantSize: e.Size}
		if !sizeVerified {
			// Without any size to check, a silently truncated body looks corrupt: retry.
			return n, &transient{err: cerr}
		}
		return n, cerr
	}
	if err := tmp.Chmod(0o644); err != nil {
		return n, fmt.Errorf("chmod temporary file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("sync temporary file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("close temporary file: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return n, fmt.Errorf("move download into place: %w", err)
	}
	committed = true
	syncDir(filepath.Dir(dst))
	return n, nil
}

// bodyReader records read errors (so that they are told apart from write errors) and reports
// progress to the stall watchdog.
type bodyReader struct {
	r      io.Reader
	err    error
	onRead func()
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.onRead()
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// syncDir makes a rename durable; best effort (not every file system supports it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// retryAfter parses a Retry-After header given in seconds (the HTTP-date form is ignored).
func retryAfter(h string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// humanBytes formats a byte count for progress lines.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
