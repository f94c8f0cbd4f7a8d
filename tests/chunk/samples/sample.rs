//! Geometry primitives.

use std::fmt;

/// A point in the plane.
#[derive(Debug, Clone, Copy)]
pub struct Point<T> {
    pub x: T,
    pub y: T,
}

pub trait Shape {
    fn area(&self) -> f64;
    fn name(&self) -> &str {
        "shape"
    }
}

impl<T: Copy> Point<T> {
    /// Creates a point.
    pub fn new(x: T, y: T) -> Self {
        Point { x, y }
    }
}

impl fmt::Display for Point<f64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

pub enum Kind {
    Circle(f64),
    Square(f64),
}

mod util {
    pub fn clamp(v: f64) -> f64 {
        v.max(0.0)
    }
}

const ORIGIN: Point<f64> = Point { x: 0.0, y: 0.0 };
