# ruff: noqa: E501  (data: Chinese sentences are kept whole)
"""Demo enterprise technology demands, written in the way enterprises describe their problems.

Loaded by ``seed-demo`` (revive.demo.seed._load_demands) through demands.services.post_demand,
each by the enterprise its ``enterprise`` key names (``catalog.ENTERPRISES``) — a company of the
demand's industry. Most of them have counterparts among the demo patents (see
``revive.demo.catalog``); the last one deliberately has none, so a matcher that always returns
something can be caught.
"""

from __future__ import annotations

# Besides the posting's own fields: ``enterprise`` (the poster, catalog.ENTERPRISES key) and
# ``answered_by`` (the demo inventions — catalog subjects — that answer it: the seed enters
# the first one's patents into the pool, the story pushes only these; none for the last).
DEMAND_ONLY = ("enterprise", "answered_by")

DEMANDS: list[dict] = [
    {
        "title": "盐碱地水稻稳产增产技术",
        "description": (
            "我们在沿海滩涂流转了三千亩盐碱地种水稻，土壤含盐量千分之三左右，现在种的品种出苗差、"
            "亩产只有三百多公斤。想找耐盐碱的水稻品种和配套的改良、栽培办法，最好能在明年春播前"
            "开展试种，能把亩产提到五百公斤以上。"
        ),
        "industry": "A0111 稻谷种植",
        "region": "江苏省盐城市",
        "enterprise": "zhinong",
        "answered_by": ("耐盐碱水稻", "盐碱地"),
    },
    {
        "title": "退役动力电池正极材料中锂的回收",
        "description": (
            "公司每年收到约五千吨退役三元电池，目前只做拆解和黑粉销售，锂基本没回收。希望引进湿法"
            "回收工艺，锂回收率达到九成以上，镍钴锰能做成电池级原料，废水要能达标，设备投资控制在"
            "两千万元以内。"
        ),
        "industry": "N7723 固体废物治理",
        "region": "陕西省西安市",
        "enterprise": "hengxin",
        "answered_by": ("废旧锂离子电池",),
    },
    {
        "title": "汽车零部件表面缺陷自动检测",
        "description": (
            "我们生产铝合金压铸件，表面气孔、划伤、缺料全靠工人目检，一个班二十个人还经常漏检被主机厂"
            "索赔。想上机器视觉检测，产线节拍每件两秒，缺陷样本不多，希望换型时调试简单。"
        ),
        "industry": "C3670 汽车零部件及配件制造",
        "region": "浙江省宁波市",
        "enterprise": "yongrui",
        "answered_by": ("工业产品表面缺陷",),
    },
    {
        "title": "化工园区高盐废水低成本处理",
        "description": (
            "园区污水厂接收农药和医药中间体企业的高盐废水，COD高、含盐量超过百分之五，生化系统经常被"
            "冲击，蒸发结晶的杂盐只能按危废处置，一吨处置费三千多元。需要预处理和分盐的整体方案。"
        ),
        "industry": "N7721 水污染治理",
        "region": "江苏省无锡市",
        "enterprise": "qingyuan",
        "answered_by": ("高盐有机废水",),
    },
    {
        "title": "生猪饲料豆粕减量替代配方",
        "description": (
            "豆粕价格涨得厉害，饲料成本压力很大。希望有成熟的低蛋白日粮或杂粕替代方案，把豆粕用量降到"
            "百分之十以下，同时保证育肥猪日增重和料肉比不变差，最好有规模猪场的验证数据。"
        ),
        "industry": "C1329 其他饲料加工",
        "region": "江苏省盐城市",
        "enterprise": "zhinong",
        "answered_by": ("生猪饲料", "植物提取物饲料添加剂"),
    },
    {
        "title": "储能电站电池热失控早期预警",
        "description": (
            "我们运营两座百兆瓦时级别的储能电站，现有电池管理系统只看电压和温度，报警时往往已经来不及。"
            "想增加气体或多参数融合的早期预警，提前几分钟发现热失控苗头，误报要少，能接入现有监控平台。"
        ),
        "industry": "D4420 电力供应",
        "region": "青海省西宁市",
        "enterprise": "gaoyuan",
        "answered_by": ("锂电池储能系统",),
    },
    {
        "title": "低成本钠离子电池正极材料",
        "description": (
            "公司做两轮电动车电池，想开发钠电池产品替代部分铅酸和锂电。需要比容量一百四十毫安时每克以上、"
            "循环两千次以上的正极材料配方和量产工艺，原材料要便宜、国内能买到。"
        ),
        "industry": "C3841 锂离子电池制造",
        "region": "江苏省常州市",
        "enterprise": "ruineng",
        "answered_by": ("钠离子电池",),
    },
    {
        "title": "鲜切蔬菜延长货架期",
        "description": (
            "我们给连锁餐饮供应净菜和鲜切果蔬，现在冷藏只能放两三天，切口发黄、出水，损耗率超过百分之十五。"
            "希望有安全的保鲜剂或包装方法，不用化学防腐剂，货架期延长到一周以上。"
        ),
        "industry": "C1371 蔬菜加工",
        "region": "江苏省盐城市",
        "enterprise": "zhinong",
        "answered_by": ("鲜切果蔬",),
    },
    {
        "title": "装配式建筑套筒灌浆质量检测",
        "description": (
            "质监部门要求对预制构件的套筒灌浆饱满度进行抽检，现在只能破损取芯，效率低还损伤构件。"
            "需要一种现场无损检测的仪器和方法，单个节点几分钟能出结果，能出具检测报告。"
        ),
        "industry": "E4710 住宅房屋建筑",
        "region": "陕西省西安市",
        "enterprise": "qinzhu",
        "answered_by": ("装配式建筑",),
    },
    {
        "title": "耐海水腐蚀铝合金船用型材",
        "description": (
            "公司生产游艇和海上平台用铝合金型材，客户反映用两三年就出现点蚀和剥落。希望改进合金成分"
            "和表面处理工艺，盐雾试验寿命翻倍，焊接性能不能下降。"
        ),
        "industry": "C3252 铝压延加工",
        "region": "浙江省舟山市",
        "enterprise": "haigong",
        "answered_by": ("耐海水腐蚀铝合金板材",),
    },
    {
        "title": "奶牛乳房炎早发现",
        "description": (
            "牧场存栏两千头奶牛，隐性乳房炎发现晚，抗生素用量大，牛奶还要弃掉。想用传感器或在线检测"
            "办法提前发现，最好和挤奶设备结合，成本每头牛每年不超过一百元。"
        ),
        "industry": "A0311 牛的饲养",
        "region": "内蒙古自治区呼和浩特市",
        "enterprise": "muge",
        "answered_by": ("奶牛",),
    },
    {
        "title": "难溶性原料药口服制剂改良",
        "description": (
            "我们有一个降压药仿制品种，原料药水溶性很差，溶出曲线和原研药对不上，一致性评价卡住了。"
            "希望合作开发纳米晶或固体分散体制剂，提高溶出和生物利用度，工艺要能放大到中试。"
        ),
        "industry": "C2720 化学药品制剂制造",
        "region": "浙江省宁波市",
        "enterprise": "hairun",
        "answered_by": ("难溶性药物",),
    },
    {
        "title": "大黄鱼深远海养殖成活率提升",
        "description": (
            "公司在外海布了几组大型网箱养大黄鱼，夏天病害多，成活率只有五成多。需要抗病苗种、"
            "配合饲料和养殖管理的整体技术支持，希望成活率提高到八成。"
        ),
        "industry": "A0411 海水养殖",
        "region": "福建省宁德市",
        "enterprise": "shenlan",
        "answered_by": ("大黄鱼",),
    },
    {
        "title": "直播带货短视频自动剪辑",
        "description": (
            "电商团队每天要把几十场直播切成短视频发到各平台，现在全靠人工剪。想找能自动识别商品讲解"
            "片段、自动加字幕的软件，支持批量处理。"
        ),
        "industry": "I6513 应用软件开发",
        "region": "浙江省杭州市",
        "enterprise": "yunbo",
        "answered_by": (),
    },
]
