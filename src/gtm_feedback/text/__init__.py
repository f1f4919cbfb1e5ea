"""Small pure text helpers shared by every domain."""
