package store

// ItemSize is itemSize, for the tests of package store_test.
var ItemSize = itemSize
