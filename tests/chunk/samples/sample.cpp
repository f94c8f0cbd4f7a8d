#include <string>
#include <vector>

namespace geo {

// A 2-D shape.
class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
};

template <typename T>
class Box : public Shape {
public:
    explicit Box(T side) : side_(side) {}

    double area() const override {
        return side_ * side_;
    }

    struct Corner {
        int x;
        int y;
    };

private:
    T side_;
};

double total(const std::vector<Shape*>& shapes);

}  // namespace geo

// Sums the areas.
double geo::total(const std::vector<Shape*>& shapes) {
    double sum = 0;
    for (auto* s : shapes) sum += s->area();
    return sum;
}

template <typename T>
T twice(T v) {
    return v + v;
}

int main() {
    geo::Box<int> b(2);
    return static_cast<int>(b.area());
}
