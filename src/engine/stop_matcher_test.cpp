#include "engine/stop_matcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jarvis {
namespace {

// Feeds `pieces` and returns everything emitted (plus Flush() if no stop).
struct RunResult {
  std::string text;
  bool stopped = false;
};

RunResult Feed(StopMatcher& m, const std::vector<std::string>& pieces) {
  RunResult r;
  for (const std::string& p : pieces) {
    StopMatcher::Output out = m.Push(p);
    r.text += out.emit;
    if (out.stopped) {
      r.stopped = true;
      break;
    }
  }
  if (!r.stopped) r.text += m.Flush();
  return r;
}

TEST(StopMatcherTest, MatchInsideOnePiece) {
  StopMatcher m({"STOP"});
  StopMatcher::Output out = m.Push("hello STOP world");
  EXPECT_EQ(out.emit, "hello ");
  EXPECT_TRUE(out.stopped);
  EXPECT_TRUE(m.stopped());
  out = m.Push("more");
  EXPECT_EQ(out.emit, "");
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopMatcherTest, MatchAcrossTwoPieces) {
  StopMatcher m({"<|im_end|>"});
  StopMatcher::Output a = m.Push("Hi there<|im");
  EXPECT_EQ(a.emit, "Hi there");  // "<|im" may start the stop: held
  EXPECT_FALSE(a.stopped);
  EXPECT_EQ(m.held_bytes(), 4u);
  StopMatcher::Output b = m.Push("_end|>trailing");
  EXPECT_EQ(b.emit, "");
  EXPECT_TRUE(b.stopped);
}

TEST(StopMatcherTest, MatchAcrossThreePieces) {
  StopMatcher m({"\n\nUser:"});
  RunResult r = Feed(m, {"answer.\n", "\nUs", "er", ": next"});
  EXPECT_EQ(r.text, "answer.");
  EXPECT_TRUE(r.stopped);
}

TEST(StopMatcherTest, PartialPrefixThenMismatchReleasesText) {
  StopMatcher m({"STOP"});
  StopMatcher::Output a = m.Push("abc ST");
  EXPECT_EQ(a.emit, "abc ");
  EXPECT_EQ(m.held_bytes(), 2u);
  StopMatcher::Output b = m.Push("O");
  EXPECT_EQ(b.emit, "");
  EXPECT_EQ(m.held_bytes(), 3u);
  StopMatcher::Output c = m.Push("NE age");  // "STON" cannot become "STOP"
  EXPECT_EQ(c.emit, "STONE age");
  EXPECT_FALSE(c.stopped);
  EXPECT_EQ(m.held_bytes(), 0u);
}

TEST(StopMatcherTest, HeldSuffixRestartsInsideMismatch) {
  // "aab" after "aa": the released text must keep the "a" that can still start
  // "aab" and then match it.
  StopMatcher m({"aab"});
  StopMatcher::Output a = m.Push("xaa");
  EXPECT_EQ(a.emit, "x");
  StopMatcher::Output b = m.Push("a");  // "aaa": only the last "aa" can match
  EXPECT_EQ(b.emit, "a");
  StopMatcher::Output c = m.Push("b");
  EXPECT_EQ(c.emit, "");
  EXPECT_TRUE(c.stopped);
}

TEST(StopMatcherTest, FlushReturnsHeldTextAtEnd) {
  StopMatcher m({"</s>"});
  StopMatcher::Output a = m.Push("the end</");
  EXPECT_EQ(a.emit, "the end");
  EXPECT_EQ(m.Flush(), "</");
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopMatcherTest, EarliestMatchWins) {
  // All three occur; "lo w" starts at 3, before "o" (4) and "world" (6).
  StopMatcher m({"world", "o", "lo w"});
  StopMatcher::Output out = m.Push("hello world");
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(out.emit, "hel");
}

TEST(StopMatcherTest, CompleteMatchIsNotDelayedByAnIncompleteOne) {
  // After "xab", "abcd" might still complete, but "b" is already complete:
  // generation stops at once (the earliest *complete* match wins).
  StopMatcher m({"abcd", "b"});
  StopMatcher::Output a = m.Push("xa");
  EXPECT_EQ(a.emit, "x");
  StopMatcher::Output b = m.Push("b");
  EXPECT_TRUE(b.stopped);
  EXPECT_EQ(b.emit, "a");
  // When both are complete in the same text, the earlier start wins.
  StopMatcher n({"abcd", "b"});
  RunResult r = Feed(n, {"xa", "bcd"});
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "x");
}

TEST(StopMatcherTest, EmptyStopListPassesEverything) {
  StopMatcher m({});
  StopMatcher::Output a = m.Push("anything <|im_end|> at all");
  EXPECT_EQ(a.emit, "anything <|im_end|> at all");
  EXPECT_FALSE(a.stopped);
  EXPECT_EQ(m.held_bytes(), 0u);
  StopMatcher e({"", ""});  // empty strings are ignored
  EXPECT_EQ(e.Push("abc").emit, "abc");
}

TEST(StopMatcherTest, Utf8MultibyteStop) {
  // "終わり" (3 chars, 9 bytes); pieces split it in the middle of characters,
  // as byte-level tokens can.
  const std::string stop = "\xE7\xB5\x82\xE3\x82\x8F\xE3\x82\x8A";
  StopMatcher m({stop});
  const std::string text = "caf\xC3\xA9 " + stop + "!";
  std::vector<std::string> pieces = {text.substr(0, 4), text.substr(4, 3), text.substr(7, 2),
                                     text.substr(9, 5), text.substr(14)};
  RunResult r = Feed(m, pieces);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "caf\xC3\xA9 ");

  // A different character sharing the first byte releases the held bytes.
  StopMatcher n({stop});
  RunResult r2 = Feed(n, {"a\xE7\xB5", "\x90z"});  // "\xE7\xB5\x90" is another kanji
  EXPECT_FALSE(r2.stopped);
  EXPECT_EQ(r2.text, "a\xE7\xB5\x90z");
}

TEST(StopMatcherTest, EveryPieceSplitGivesTheSameResult) {
  // Property: for each way of cutting the text into two or three pieces, the
  // output equals the one-piece answer.
  const std::vector<std::string> stops = {"###", "\nHuman:", "##x"};
  const std::string text = "a#b##c\nHum\nHuman: rest ### more";
  StopMatcher whole(stops);
  RunResult expected = Feed(whole, {text});
  ASSERT_TRUE(expected.stopped);
  ASSERT_EQ(expected.text, "a#b##c\nHum");
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) {
      StopMatcher m(stops);
      RunResult r = Feed(m, {text.substr(0, i), text.substr(i, j - i), text.substr(j)});
      ASSERT_EQ(r.text, expected.text) << i << "," << j;
      ASSERT_TRUE(r.stopped);
    }
  }
}

}  // namespace
}  // namespace jarvis
