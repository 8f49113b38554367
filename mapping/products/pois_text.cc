#include "mapping/products/pois_text.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace armap::mapping::internal {

std::vector<char32_t> CodePoints(const std::string& s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      ++i;
      continue;
    }
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    i += ok ? n : 1;
    if (ok) out.push_back(cp);
  }
  return out;
}

std::string Utf8FromCodePoints(const std::vector<char32_t>& cps) {
  std::string out;
  for (char32_t c : cps) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool IsCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF);
}

std::vector<char32_t> NormalizedForCer(const std::string& utf8) {
  std::vector<char32_t> out;
  for (char32_t c : CodePoints(utf8)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000) continue;
    if (c < 0x80) c = static_cast<char32_t>(std::tolower(static_cast<int>(c)));
    out.push_back(c);
  }
  return out;
}

double CharacterErrorRate(const std::string& hypothesis, const std::string& reference) {
  const std::vector<char32_t> h = NormalizedForCer(hypothesis), r = NormalizedForCer(reference);
  if (r.empty()) return h.empty() ? 0.0 : 1.0;
  std::vector<int> prev(h.size() + 1), cur(h.size() + 1);
  for (size_t j = 0; j <= h.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= r.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= h.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return static_cast<double>(prev[h.size()]) / static_cast<double>(r.size());
}

namespace {
// Levenshtein table: d[i][j] is the distance between a's first i and b's
// first j characters.
std::vector<std::vector<int>> EditDistanceTable(const std::vector<char32_t>& a, const std::vector<char32_t>& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
  }
  return d;
}
}  // namespace

std::vector<int> MatchedIndices(const std::vector<char32_t>& a, const std::vector<char32_t>& b) {
  const size_t n = a.size(), m = b.size();
  const std::vector<std::vector<int>> d = EditDistanceTable(a, b);
  std::vector<int> out(n, -1);
  for (size_t i = n, j = m; i > 0 && j > 0;) {
    if (a[i - 1] == b[j - 1] && d[i][j] == d[i - 1][j - 1]) {
      out[i - 1] = static_cast<int>(j - 1);
      --i, --j;
    } else if (d[i][j] == d[i - 1][j - 1] + 1) {
      --i, --j;
    } else if (d[i][j] == d[i - 1][j] + 1) {
      --i;
    } else {
      --j;
    }
  }
  return out;
}

std::vector<int> AlignedIndices(const std::vector<char32_t>& a, const std::vector<char32_t>& b) {
  const size_t n = a.size(), m = b.size();
  const std::vector<std::vector<int>> d = EditDistanceTable(a, b);
  std::vector<int> out(n, -1);
  for (size_t i = n, j = m; i > 0 && j > 0;) {
    // The diagonal first: a substitution keeps the two characters paired.
    if (d[i][j] == d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) {
      out[i - 1] = static_cast<int>(j - 1);
      --i, --j;
    } else if (d[i][j] == d[i - 1][j] + 1) {
      --i;
    } else {
      --j;
    }
  }
  return out;
}

bool FusedName::AllSupported() const {
  return !text.empty() && std::all_of(supported.begin(), supported.end(), [](char s) { return s != 0; });
}

FusedName FuseCharacters(const std::vector<CharReading>& readings, double min_char_confidence,
                         double min_char_confidence_single_view) {
  FusedName out;
  auto conf_at = [](const CharReading& r, size_t k) { return k < r.char_conf.size() ? r.char_conf[k] : 0.0; };
  // The name's length: the one with the most confidence mass.
  std::map<size_t, double> mass;
  for (const CharReading& r : readings) {
    for (size_t k = 0; k < r.text.size(); ++k) mass[r.text.size()] += conf_at(r, k);
  }
  size_t length = 0;
  double best_mass = 0;
  for (const auto& [len, m] : mass) {
    if (len > 0 && m > best_mass) best_mass = m, length = len;
  }
  if (length == 0) return out;
  // Reference for the off-by-one alignments: the surest reading of that length.
  const CharReading* ref = nullptr;
  double ref_mass = -1;
  for (const CharReading& r : readings) {
    if (r.text.size() != length) continue;
    double m = 0;
    for (size_t k = 0; k < r.text.size(); ++k) m += conf_at(r, k);
    if (m > ref_mass) ref_mass = m, ref = &r;
  }
  struct Vote {
    double sum = 0, best = 0;
    int count = 0;
  };
  std::vector<std::map<char32_t, Vote>> votes(length);
  for (const CharReading& r : readings) {
    if (r.text.empty() || r.text.size() + 1 < length || r.text.size() > length + 1) continue;
    std::vector<int> index(length);
    if (r.text.size() == length) {
      for (size_t k = 0; k < length; ++k) index[k] = static_cast<int>(k);
    } else {
      index = AlignedIndices(ref->text, r.text);
    }
    ++out.num_views;
    for (size_t k = 0; k < length; ++k) {
      if (index[k] < 0) continue;
      const double c = conf_at(r, static_cast<size_t>(index[k]));
      Vote& v = votes[k][r.text[static_cast<size_t>(index[k])]];
      v.sum += c, v.best = std::max(v.best, c), ++v.count;
    }
  }
  out.text.resize(length);
  out.num_agreeing.resize(length);
  out.best_conf.resize(length);
  out.supported.resize(length);
  double share_sum = 0;
  for (size_t k = 0; k < length; ++k) {
    const Vote* win = nullptr;
    double total = 0;
    for (const auto& [c, v] : votes[k]) {
      total += v.sum;
      if (win == nullptr || v.sum > win->sum) win = &v, out.text[k] = c;
    }
    if (win == nullptr) continue;  // every aligned view skipped this position
    out.num_agreeing[k] = win->count;
    out.best_conf[k] = win->best;
    const bool sure = (win->count >= 2 && win->best >= min_char_confidence) ||
                      win->best >= min_char_confidence_single_view;
    // The winner must hold more than half of the position's confidence
    // mass, not just outweigh each other character: where most views read
    // different characters the position is ambiguous, and a single sure view
    // there was wrong (default city: 丰/页/夏/奢产中介 fused as 夏产中介, the
    // 0.98 夏 against 0.93 + 0.90 + 0.89 for the others). With two candidate
    // characters this is the strict winner.
    out.supported[k] = win->sum > total - win->sum && sure;
    share_sum += win->sum / out.num_views;
  }
  out.confidence = share_sum / static_cast<double>(length);
  return out;
}

std::string CleanCjkReading(const std::string& utf8) {
  std::vector<char32_t> out;
  for (char32_t c : CodePoints(utf8)) {
    if (IsCjk(c)) out.push_back(c);
  }
  return Utf8FromCodePoints(out);
}

std::string CleanLatinReading(const std::string& utf8) {
  std::string out;
  for (char32_t c : CodePoints(utf8)) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '&' ||
                      c == '\'';
    if (keep) {
      out += static_cast<char>(c);
    } else if ((c == ' ' || c == '\n' || c == '-') && !out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

struct CategoryRule {
  const char* category;
  std::vector<const char*> keywords;  // UTF-8 substrings (English ones lower-case)
};

// More specific rules first: "宠物医院" before clinics, "网吧"/"internet cafe"
// before cafes, "茶叶" (tea leaves) before restaurants' "茶楼".
const std::vector<CategoryRule>& ZhRules() {
  static const std::vector<CategoryRule> rules = {
      {"veterinary", {"宠物医院", "兽医"}},
      {"internet_cafe", {"网吧", "网咖"}},
      {"pharmacy", {"药房", "药店", "大药"}},
      {"bank", {"银行", "信用社"}},
      {"hotel", {"酒店", "宾馆", "旅舍", "旅馆", "客栈", "饭店"}},
      {"travel_agency", {"旅行社"}},
      {"cafe", {"咖啡", "奶茶", "茶饮"}},
      {"tea", {"茶叶", "茶庄"}},
      {"bakery", {"面包", "饼屋", "蛋糕", "烘焙"}},
      {"fast_food", {"小吃", "快餐"}},
      {"restaurant", {"餐厅", "面馆", "小厨", "茶楼", "饺子", "糖水", "菜馆", "云吞", "烧鹅", "拉面", "火锅",
                      "牛肉", "食府", "酒楼", "餐馆"}},
      {"supermarket", {"超市"}},
      {"convenience", {"便利"}},
      {"grocery", {"水果", "蔬菜", "生鲜"}},
      {"bookstore", {"书店", "书局", "书城"}},
      {"clothing", {"服饰", "童装", "鞋", "服装"}},
      {"hardware", {"五金", "建材"}},
      {"electronics", {"电器", "数码", "手机", "电子"}},
      {"optician", {"眼镜"}},
      {"beauty", {"美发", "美容", "理发", "发廊"}},
      {"laundry", {"洗衣", "干洗"}},
      {"post", {"快递", "邮政", "驿站"}},
      {"clinic", {"诊所", "医院", "卫生"}},
      {"florist", {"花店", "鲜花", "花坊"}},
      {"gym", {"健身", "瑜伽"}},
      {"lottery", {"彩票"}},
      {"liquor", {"烟酒", "酒行"}},
      {"jewelry", {"钟表", "金店", "珠宝", "黄金"}},
      {"real_estate", {"房产", "地产", "中介"}},
      {"copyshop", {"打印", "复印", "图文"}},
      {"stationery", {"文具"}},
      {"toys", {"玩具"}},
      {"furniture", {"家具", "家居"}},
      {"bicycle", {"自行车", "单车"}},
      {"car_repair", {"汽车", "汽修", "车行"}},
  };
  return rules;
}

const std::vector<CategoryRule>& EnRules() {
  static const std::vector<CategoryRule> rules = {
      {"veterinary", {"pet hospital", "veterinary", "vet clinic"}},
      {"internet_cafe", {"internet cafe", "internet"}},
      {"pharmacy", {"pharmacy", "drugstore", "chemist"}},
      {"bank", {"bank"}},
      {"hotel", {"hotel", "inn", "hostel", "motel"}},
      {"travel_agency", {"travel"}},
      {"cafe", {"coffee", "cafe", "milk tea"}},
      {"bakery", {"bakery", "bread", "cake"}},
      {"fast_food", {"snack", "fast food"}},
      {"tea", {"tea shop"}},
      {"restaurant", {"restaurant", "noodle", "kitchen", "tea house", "dumpling", "dessert", "cuisine", "wonton",
                      "roast", "hotpot", "beef", "grill", "diner"}},
      {"supermarket", {"supermarket"}},
      {"convenience", {"mart", "convenience"}},
      {"grocery", {"fruit", "vegetable", "grocery"}},
      {"bookstore", {"book"}},
      {"clothing", {"wear", "shoes", "fashion", "clothing"}},
      {"hardware", {"hardware"}},
      {"electronics", {"electronic", "phone", "digital"}},
      {"optician", {"optical", "optician", "glasses"}},
      {"beauty", {"hair", "beauty", "salon", "spa"}},
      {"laundry", {"laundry", "dry clean"}},
      {"post", {"parcel", "post", "courier"}},
      {"clinic", {"clinic", "dental", "hospital"}},
      {"florist", {"florist", "flower"}},
      {"gym", {"fitness", "yoga", "gym"}},
      {"lottery", {"lottery"}},
      {"liquor", {"liquor", "wine"}},
      {"jewelry", {"jewel", "watch", "gold"}},
      {"real_estate", {"real estate", "realty"}},
      {"copyshop", {"print", "copy"}},
      {"stationery", {"stationery"}},
      {"toys", {"toy"}},
      {"furniture", {"furniture"}},
      {"bicycle", {"bicycle", "bike"}},
      {"car_repair", {"car care", "car wash", "auto"}},
  };
  return rules;
}

}  // namespace

std::string CategoryFromName(const std::string& name_zh, const std::string& name_en) {
  for (const CategoryRule& rule : ZhRules()) {
    for (const char* k : rule.keywords) {
      if (!name_zh.empty() && name_zh.find(k) != std::string::npos) return rule.category;
    }
  }
  std::string en = " ";
  for (char c : name_en) en += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  en += ' ';
  for (const CategoryRule& rule : EnRules()) {
    for (const char* k : rule.keywords) {
      // Whole-word start: "inn" must not match "dinner".
      const std::string key = std::string(" ") + k;
      if (en.find(key) != std::string::npos) return rule.category;
    }
  }
  return "";
}

}  // namespace armap::mapping::internal
