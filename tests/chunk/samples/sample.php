<?php

namespace App\Models;

use Illuminate\Support\Str;

const VERSION = "1.0";

/**
 * A registered user.
 */
#[Entity]
class User extends Model implements HasName
{
    use Notifiable;

    private string $email;

    public function __construct(string $email)
    {
        $this->email = $email;
    }

    // Display name derived from the email.
    public function name(): string
    {
        return Str::before($this->email, '@');
    }

    public static function find(int $id): ?self
    {
        return null;
    }
}

interface HasName
{
    public function name(): string;
}

trait Notifiable
{
    public function notify(string $msg): void {}
}

function slugify(string $s): string
{
    return strtolower($s);
}

echo slugify("Hello");
