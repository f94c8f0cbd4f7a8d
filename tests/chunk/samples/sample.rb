# frozen_string_literal: true

require "json"

module Billing
  # An invoice with line items.
  class Invoice < Base
    attr_reader :lines

    TAX = 0.2

    def initialize(lines = [])
      @lines = lines
    end

    # Total including tax.
    def total
      lines.sum(&:amount) * (1 + TAX)
    end

    def self.load(path)
      new(JSON.parse(File.read(path)))
    end

    class Line
      def amount
        0
      end
    end
  end
end

def helper(x)
  x * 2
end

puts helper(2)
