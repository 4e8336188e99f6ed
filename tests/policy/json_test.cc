// Unit tests of the strict JSON reader (policy/compiler/json.h).
#include "policy/compiler/json.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edict::json {
namespace {

TEST(JsonParse, ScalarsAndLocations) {
  const absl::StatusOr<Value> v = Parse(
      "{\n"
      "  \"b\": true,\n"
      "  \"n\": null,\n"
      "  \"i\": -42,\n"
      "  \"d\": 2.5e1,\n"
      "  \"s\": \"x\\\"y\\\\z\\n\\u00e9\\ud83d\\ude00\"\n"
      "}");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->is_object());
  EXPECT_EQ(v->location().line, 1);
  EXPECT_EQ(v->location().col, 1);
  ASSERT_EQ(v->members().size(), 5u);
  EXPECT_EQ(v->members()[0].key, "b");
  EXPECT_EQ(v->members()[0].key_location.line, 2);
  EXPECT_EQ(v->members()[0].key_location.col, 3);

  const Value* b = v->Find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->is_bool());
  EXPECT_TRUE(b->boolean());
  EXPECT_EQ(b->location().line, 2);
  EXPECT_EQ(b->location().col, 8);

  EXPECT_TRUE(v->Find("n")->is_null());

  const Value* i = v->Find("i");
  EXPECT_TRUE(i->is_number());
  EXPECT_TRUE(i->is_integer());
  EXPECT_EQ(i->integer(), -42);
  EXPECT_EQ(i->string(), "-42");
  EXPECT_EQ(i->location().line, 4);
  EXPECT_EQ(i->location().col, 8);

  const Value* d = v->Find("d");
  EXPECT_TRUE(d->is_number());
  EXPECT_FALSE(d->is_integer());
  EXPECT_EQ(d->integer(), 0);
  EXPECT_DOUBLE_EQ(d->number(), 25.0);
  EXPECT_EQ(d->string(), "2.5e1");

  const Value* s = v->Find("s");
  EXPECT_TRUE(s->is_string());
  EXPECT_EQ(s->string(), "x\"y\\z\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(JsonParse, ArraysKeepOrderAndLocations) {
  const absl::StatusOr<Value> v = Parse("[1, [], {}, \"a\",\n  [2]]");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->is_array());
  ASSERT_EQ(v->items().size(), 5u);
  EXPECT_EQ(v->items()[0].integer(), 1);
  EXPECT_TRUE(v->items()[1].is_array());
  EXPECT_TRUE(v->items()[1].items().empty());
  EXPECT_TRUE(v->items()[2].is_object());
  EXPECT_EQ(v->items()[3].string(), "a");
  EXPECT_EQ(v->items()[3].location().col, 13);
  EXPECT_EQ(v->items()[4].location().line, 2);
  EXPECT_EQ(v->items()[4].location().col, 3);
  EXPECT_EQ(v->items()[4].items()[0].location().col, 4);
}

TEST(JsonParse, MembersInInputOrder) {
  const absl::StatusOr<Value> v = Parse(R"({"z": 1, "a": 2, "m": 3})");
  ASSERT_TRUE(v.ok());
  std::vector<std::string> keys;
  for (const Value::Member& m : v->members()) keys.push_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
}

TEST(JsonParse, IntegerRange) {
  const absl::StatusOr<Value> big = Parse(
      "[9223372036854775807, -9223372036854775808, "
      "9223372036854775808, 1.0, 1e2, -0]");
  ASSERT_TRUE(big.ok()) << big.status();
  const auto& items = big->items();
  EXPECT_TRUE(items[0].is_integer());
  EXPECT_EQ(items[0].integer(), INT64_MAX);
  EXPECT_TRUE(items[1].is_integer());
  EXPECT_EQ(items[1].integer(), INT64_MIN);
  EXPECT_FALSE(items[2].is_integer());  // out of int64 range, still a number
  EXPECT_TRUE(items[2].is_number());
  EXPECT_FALSE(items[3].is_integer());
  EXPECT_FALSE(items[4].is_integer());
  EXPECT_TRUE(items[5].is_integer());
  EXPECT_EQ(items[5].integer(), 0);
}

TEST(JsonParse, NestingLimit) {
  const std::string ok = std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
  EXPECT_TRUE(Parse(ok).ok());
  const std::string deep = std::string(kMaxDepth + 1, '[') + std::string(kMaxDepth + 1, ']');
  const absl::StatusOr<Value> v = Parse(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "1:65: nesting deeper than 64");
  // Very deep input is rejected without recursing through all of it.
  EXPECT_FALSE(Parse(std::string(1000000, '[')).ok());
  EXPECT_FALSE(Parse(std::string(100000, '{')).ok());
}

struct BadCase {
  const char* text;
  const char* error;
};

class JsonRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(JsonRejects, WithLocatedMessage) {
  const absl::StatusOr<Value> v = Parse(GetParam().text);
  ASSERT_FALSE(v.ok()) << GetParam().text;
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Strict, JsonRejects,
    ::testing::Values(
        BadCase{"", "1:1: unexpected end of input, expected a value"},
        BadCase{"   \n  ", "2:3: unexpected end of input, expected a value"},
        BadCase{"{\"a\": 1,}", "1:8: trailing comma"}, BadCase{"[1, 2,\n]", "1:6: trailing comma"},
        BadCase{"{\"a\": 1, \"a\": 2}", "1:10: duplicate key \"a\""},
        BadCase{"// c\n{}", "1:1: comments are not allowed in JSON"},
        BadCase{"{\"a\": /* c */ 1}", "1:7: comments are not allowed in JSON"},
        BadCase{"NaN", "1:1: NaN and Infinity are not allowed in JSON"},
        BadCase{"[-Infinity]", "1:2: NaN and Infinity are not allowed in JSON"},
        BadCase{"[1e999]", "1:2: number out of range"},
        BadCase{"\"\\ud800\"", "1:2: lone surrogate \\uD800 in string"},
        BadCase{"\"\\udc00\"", "1:2: lone surrogate \\uDC00 in string"},
        BadCase{"\"\\ud800\\u0041\"", "1:2: lone surrogate \\uD800 in string"},
        BadCase{"\"a\tb\"", "1:3: control character U+0009 in string"},
        BadCase{"\"a\nb\"", "1:3: control character U+000A in string"},
        BadCase{"\"\\x\"", "1:2: invalid escape sequence in string"},
        BadCase{"\"\\u12\"", "1:2: invalid \\u escape: expected 4 hex digits"},
        BadCase{"\"\xff\"", "1:2: invalid UTF-8 in string"},
        BadCase{"\"\xc0\xaf\"", "1:2: invalid UTF-8 in string"},      // overlong '/'
        BadCase{"\"\xed\xa0\x80\"", "1:2: invalid UTF-8 in string"},  // encoded surrogate
        BadCase{"\"abc", "1:1: unterminated string"},
        BadCase{"{} {}", "1:4: unexpected data after the JSON value"},
        BadCase{"01", "1:1: invalid number: leading zero"},
        BadCase{"[1.]", "1:2: invalid number: expected a digit after '.'"},
        BadCase{"[1e]", "1:2: invalid number: expected a digit in the exponent"},
        BadCase{"[-]", "1:2: invalid number: expected a digit"},
        BadCase{"[+1]", "1:2: unexpected '+', expected a value"},
        BadCase{"{\"a\" 1}", "1:6: unexpected '1', expected ':'"},
        BadCase{"{a: 1}", "1:2: unexpected 'a', expected a string key"},
        BadCase{"[1 2]", "1:4: unexpected '2', expected ',' or ']'"},
        BadCase{"{\"a\": 1 \"b\": 2}", "1:9: unexpected '\"', expected ',' or '}'"},
        BadCase{"{\"a\": [1, 2", "1:12: unexpected end of input, expected ',' or ']'"},
        BadCase{"tru", "1:1: unexpected 't', expected a value"},
        BadCase{"'a'", "1:1: unexpected ''', expected a value"},
        BadCase{"\xef\xbb\xbf{}", "1:1: unexpected byte 0xEF, expected a value"}));

TEST(JsonQuote, EscapesWhatItMust) {
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
  EXPECT_EQ(Quote(std::string_view("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(Quote("\xC3\xA9"), "\"\xC3\xA9\"");  // UTF-8 passes through
}

TEST(JsonQuote, RoundTripsThroughParse) {
  const std::string samples[] = {"",
                                 "a\"b",
                                 "tab\there",
                                 std::string("nul\0byte", 8),
                                 "\xF0\x9F\x98\x80 emoji",
                                 "\\u0041 literal"};
  for (const std::string& s : samples) {
    const absl::StatusOr<Value> v = Parse(Quote(s));
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->string(), s);
  }
}

}  // namespace
}  // namespace edict::json
