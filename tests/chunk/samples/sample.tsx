import React, { useState } from "react";

type Props = { label: string; initial?: number };

// A button that counts its clicks.
export function Counter({ label, initial = 0 }: Props) {
  const [count, setCount] = useState(initial);
  return (
    <button onClick={() => setCount(count + 1)}>
      {label}: {count}
    </button>
  );
}

export const Badge = ({ text }: { text: string }) => <span className="badge">{text}</span>;

export class Panel extends React.Component<Props> {
  render() {
    return <div>{this.props.label}</div>;
  }
}
