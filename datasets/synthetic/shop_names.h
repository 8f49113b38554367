// Shop names for ground-floor signs: real-looking Chinese names with their
// English renderings and a POI category.
#pragma once

#include <array>

namespace armap::synth {

struct ShopName {
  const char* zh;
  const char* en;
  const char* category;
};

inline constexpr std::array<ShopName, 72> kShopNames = {{
    {"海天餐厅", "Haitian Restaurant", "restaurant"},   {"老街面馆", "Old Street Noodles", "restaurant"},
    {"川味小厨", "Sichuan Kitchen", "restaurant"},       {"粤式茶楼", "Cantonese Tea House", "restaurant"},
    {"金龙饺子馆", "Golden Dragon Dumplings", "restaurant"}, {"阿婆糖水", "Granny's Desserts", "restaurant"},
    {"湘菜馆", "Hunan Cuisine", "restaurant"},           {"鲜虾云吞", "Shrimp Wonton", "restaurant"},
    {"深井烧鹅", "Roast Goose House", "restaurant"},     {"兰州拉面", "Lanzhou Noodles", "restaurant"},
    {"火锅城", "Hotpot City", "restaurant"},             {"潮汕牛肉", "Chaoshan Beef", "restaurant"},
    {"平安大药房", "Ping An Pharmacy", "pharmacy"},      {"百姓药店", "People's Drugstore", "pharmacy"},
    {"仁和堂药房", "Renhe Pharmacy", "pharmacy"},        {"康宁药店", "Kangning Pharmacy", "pharmacy"},
    {"华南银行", "South China Bank", "bank"},            {"招商银行", "Merchants Bank", "bank"},
    {"建设银行", "Construction Bank", "bank"},           {"农商银行", "Rural Commercial Bank", "bank"},
    {"好又多超市", "Haoyouduo Supermarket", "supermarket"}, {"万家便利店", "Wanjia Mart", "convenience"},
    {"美宜佳", "Meiyijia", "convenience"},               {"天天便利", "Daily Convenience", "convenience"},
    {"绿叶水果", "Green Leaf Fruit", "grocery"},         {"新鲜蔬菜", "Fresh Vegetables", "grocery"},
    {"星光咖啡", "Starlight Coffee", "cafe"},            {"街角咖啡", "Corner Cafe", "cafe"},
    {"茶语奶茶", "Tea Talk Milk Tea", "cafe"},           {"甜心面包", "Sweetheart Bakery", "bakery"},
    {"麦香饼屋", "Wheat Aroma Bakery", "bakery"},        {"新华书店", "Xinhua Bookstore", "bookstore"},
    {"文心书局", "Wenxin Books", "bookstore"},           {"明月酒店", "Bright Moon Hotel", "hotel"},
    {"如家宾馆", "Home Inn", "hotel"},                   {"南山旅舍", "Nanshan Hostel", "hotel"},
    {"时尚服饰", "Fashion Wear", "clothing"},            {"童装世界", "Kids Wear World", "clothing"},
    {"名鞋坊", "Famous Shoes", "clothing"},              {"五金建材", "Hardware Store", "hardware"},
    {"电器城", "Electronics City", "electronics"},       {"手机维修", "Phone Repair", "electronics"},
    {"数码广场", "Digital Plaza", "electronics"},        {"眼镜店", "Optical Shop", "optician"},
    {"明亮眼镜", "Bright Eyes Optical", "optician"},     {"美发沙龙", "Hair Salon", "beauty"},
    {"丽人美容", "Beauty Spa", "beauty"},                {"洗衣店", "Laundry", "laundry"},
    {"快递驿站", "Parcel Station", "post"},              {"中国邮政", "China Post", "post"},
    {"社区诊所", "Community Clinic", "clinic"},          {"牙科诊所", "Dental Clinic", "clinic"},
    {"宠物医院", "Pet Hospital", "veterinary"},          {"花店", "Flower Shop", "florist"},
    {"鲜花坊", "Blossom Florist", "florist"},            {"健身中心", "Fitness Center", "gym"},
    {"瑜伽馆", "Yoga Studio", "gym"},                    {"彩票站", "Lottery Kiosk", "lottery"},
    {"烟酒商行", "Tobacco & Liquor", "liquor"},          {"茶叶店", "Tea Shop", "tea"},
    {"钟表行", "Watch Shop", "jewelry"},                 {"金店", "Gold Jewelry", "jewelry"},
    {"房产中介", "Real Estate Agency", "real_estate"},   {"旅行社", "Travel Agency", "travel_agency"},
    {"打印复印", "Print & Copy", "copyshop"},            {"文具店", "Stationery", "stationery"},
    {"玩具店", "Toy Store", "toys"},                     {"家具城", "Furniture Mall", "furniture"},
    {"自行车行", "Bicycle Shop", "bicycle"},             {"汽车美容", "Car Care", "car_repair"},
    {"网吧", "Internet Cafe", "internet_cafe"},          {"小吃店", "Snack Bar", "fast_food"},
}};

inline constexpr std::array<const char*, 12> kStreetNames = {{
    "Shennan Road", "Hongli Road", "Fuhua Road", "Yitian Road", "Jintian Road", "Caitian Road",
    "Binhe Avenue", "Xinzhou Road", "Minsheng Road", "Fuzhong Road", "Huaqiang Road", "Zhongxin Road"}};

}  // namespace armap::synth
