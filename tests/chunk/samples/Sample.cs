using System;
using System.Collections.Generic;

namespace Shop.Orders
{
    /// <summary>An order line.</summary>
    public record Line(string Sku, int Quantity);

    public interface IOrderRepository
    {
        Order Find(Guid id);
    }

    /// <summary>
    /// An order with lines.
    /// </summary>
    [Serializable]
    public class Order
    {
        private readonly List<Line> _lines = new();

        public Guid Id { get; init; }

        public Order(Guid id)
        {
            Id = id;
        }

        // Adds a line.
        public void Add(Line line)
        {
            _lines.Add(line);
        }

        public void Add(string sku, int quantity) => Add(new Line(sku, quantity));

        public T Total<T>() where T : struct
        {
            return default;
        }

        public enum State { Open, Closed }
    }

    public struct Money
    {
        public decimal Amount;
    }
}
