package hdf5

import (
	"errors"
	"io"
	"sync"
)

// Small reads (metadata, small datasets) go through a cache of file pages: a Keras weight file
// needs a few hundred small reads, which would otherwise each be a system call.
const (
	pageSize      = 4096
	maxCachedRead = 64 << 10 // larger reads go straight to the file
	maxPages      = 1024     // 4 MiB per File
)

type pageCache struct {
	mu    sync.Mutex
	pages map[int64][]byte
	fifo  []int64
}

// readInto fills buf from offset off of the file (within its size).
func (f *File) readInto(buf []byte, off int64) error {
	if len(buf) > maxCachedRead {
		m, err := f.r.ReadAt(buf, off)
		if m < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		return nil
	}
	for done := 0; done < len(buf); {
		pos := off + int64(done)
		start := pos / pageSize * pageSize
		page, err := f.page(start)
		if err != nil {
			return err
		}
		n := copy(buf[done:], page[min(pos-start, int64(len(page))):])
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		done += n
	}
	return nil
}

// page returns the cached page starting at start, reading it if needed.
func (f *File) page(start int64) ([]byte, error) {
	c := &f.cache
	c.mu.Lock()
	p, ok := c.pages[start]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p = make([]byte, min(pageSize, f.size-start))
	m, err := f.r.ReadAt(p, start)
	if m < len(p) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = map[int64][]byte{}
	}
	if _, ok := c.pages[start]; !ok {
		c.pages[start] = p
		c.fifo = append(c.fifo, start)
		if len(c.fifo) > maxPages {
			delete(c.pages, c.fifo[0])
			c.fifo = c.fifo[1:]
		}
	}
	return p, nil
}
