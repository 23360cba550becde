package twitter

// recentTweetIDs is how many tweet IDs the source remembers to drop the
// tweets that both streams deliver while a retrack overlaps them. The
// overlap lasts one connection attempt, seconds at most; Twitter caps a
// filter stream near 50 tweets a second, so this covers over a minute of
// it for well under a MiB.
const recentTweetIDs = 4096
