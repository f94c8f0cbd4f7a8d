// Shopping cart utilities.
import { format } from "./money.js";

const TAX_RATE = 0.2;

/**
 * Adds tax to a net price.
 * @param {number} net
 */
export function withTax(net) {
  return net * (1 + TAX_RATE);
}

export const sum = (items) => items.reduce((a, b) => a + b, 0);

class Cart {
  #items = [];

  constructor(owner) {
    this.owner = owner;
  }

  // Adds one item.
  add(item) {
    this.#items.push(item);
    return this;
  }

  static empty() {
    return new Cart(null);
  }

  get size() {
    return this.#items.length;
  }
}

function* ids() {
  let i = 0;
  while (true) yield i++;
}

export default Cart;
