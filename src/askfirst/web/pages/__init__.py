"""Server-rendered pages: sign-in and sign-out, and the signed-in home."""
