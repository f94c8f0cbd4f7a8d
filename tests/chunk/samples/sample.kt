package com.example.library

import kotlin.math.max

const val LIMIT = 10

/**
 * A book on the shelf.
 */
data class Book(val title: String, val pages: Int)

// A shelf of books.
class Shelf<T : Book>(private val capacity: Int) {
    private val books = mutableListOf<T>()

    fun add(book: T): Boolean {
        if (books.size >= capacity) return false
        books.add(book)
        return true
    }

    fun add(vararg many: T) {
        many.forEach { add(it) }
    }

    @Deprecated("use pages")
    fun longest(): Int = books.maxOf { it.pages }

    companion object {
        fun empty(): Shelf<Book> = Shelf(0)
    }

    inner class Cursor {
        fun next(): T? = null
    }
}

interface Catalog {
    fun lookup(title: String): Book?
}

object Registry {
    fun register(b: Book) {}
}

enum class Genre { FICTION, SCIENCE }

fun main() {
    println(max(1, 2))
}
