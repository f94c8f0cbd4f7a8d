import type { Request } from "./http";

export interface Repository<T> {
  find(id: string): Promise<T | undefined>;
  save(item: T): Promise<void>;
}

export enum Status {
  Active = "active",
  Archived = "archived",
}

type Id = string;

/** In-memory repository for tests. */
export class MemoryRepository<T extends { id: Id }> implements Repository<T> {
  private readonly items = new Map<Id, T>();

  async find(id: string): Promise<T | undefined> {
    return this.items.get(id);
  }

  async save(item: T): Promise<void> {
    this.items.set(item.id, item);
  }
}

export function parse(input: string): number;
export function parse(input: number): number;
export function parse(input: string | number): number {
  return Number(input);
}

export const handler = async (req: Request): Promise<number> => {
  return parse(req.body);
};

namespace Legacy {
  export function old(): void {}
}
