package com.example.shop;

import java.util.ArrayList;
import java.util.List;

/**
 * A shopping cart.
 */
public class Cart<T extends Item> {
    private final List<T> items = new ArrayList<>();

    public Cart() {
    }

    // Adds an item and returns the cart.
    @Override
    public Cart<T> add(T item) {
        items.add(item);
        return this;
    }

    public Cart<T> add(T item, int count) {
        for (int i = 0; i < count; i++) {
            items.add(item);
        }
        return this;
    }

    public static class Line {
        int quantity;

        int total() {
            return quantity;
        }
    }

    enum Mode { OPEN, CLOSED }
}

interface Item {
    String sku();
}

record Price(long cents) {
    Price {
        if (cents < 0) throw new IllegalArgumentException();
    }
}
