// Package store keeps products in memory.
package store

import (
	"errors"
	"sync"
)

var ErrNotFound = errors.New("not found")

// Product is one item for sale.
type Product struct {
	ID    string
	Price int
}

// Store is a concurrency-safe product map.
type Store[K comparable] struct {
	mu    sync.Mutex
	items map[K]Product
}

type Finder interface {
	Find(id string) (Product, error)
}

// New returns an empty store.
func New[K comparable]() *Store[K] {
	return &Store[K]{items: map[K]Product{}}
}

// Get returns the product stored under key.
func (s *Store[K]) Get(key K) (Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.items[key]
	if !ok {
		return Product{}, ErrNotFound
	}
	return p, nil
}

func (p Product) String() string { return p.ID }
